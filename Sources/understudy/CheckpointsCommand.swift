import ArgumentParser
import Node
import Repository

/// `understudy checkpoints …`: the manual's suspendCheckpointsForMinutes:, resumeCheckpoints and
/// checkpointStatus, for taking extent snapshots by hand (`backup snapshot` does all three).
struct CheckpointsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoints",
        abstract: "Suspend, resume or show the suspension of a running node's checkpoints.",
        subcommands: [CheckpointsSuspend.self, CheckpointsResume.self, CheckpointsStatus.self])
}

/// How `suspend` and `status` report the suspension, as checkpointStatus does.
func printSuspension(_ status: CheckpointSuspensionStatus, json: Bool) throws {
    if json { return print(try jsonLine(status)) }
    print(status.suspended ? "checkpoints suspended: \(StatusWatchView.wholeSeconds(status.secondsRemaining.rounded(.up))) remaining" : "checkpoints not suspended")
}
