import ArgumentParser

/// `understudy promote`: a standby stops following its primary and becomes a primary.
struct PromoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Make a standby a primary: apply what it received, open a new epoch, accept writes.",
        discussion: """
            Prints the final applied position, the new epoch and how many of the primary's records the \
            standby knows of (from its last heartbeat or the last record received, whichever is newer) and \
            never received: a lower bound of what is lost if the primary is gone. On a \
            node that is not a standby it changes nothing and says so (exit status 0), so it can be \
            retried safely. A standby delayed with --apply-delay applies everything flushed first (the \
            delay does not hold a promote). A standby paused with a target (`standby pause --until-seqno \
            N | --until-time T`) is promoted at that target: the flushed records after it are not applied \
            but set aside, and the report names their seqnos (`discarded` in --json). A standby paused \
            without a target is refused: resume it, or give the pause a target. \(AdminOptions.tokenHelp)
            """)

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print the promote report as JSON.")
    var json = false

    func run() throws {
        let report = try admin.withClient { try $0.promote(token: $1) }
        if json { return print(try jsonLine(report)) }
        print(report.message)
        if let phases = report.milliseconds {
            let waited = phases.waitForApply.map { "wait for the apply step \(humanMilliseconds($0)), " } ?? ""
            let stopped = phases.stopStandby.map { ", stop standby \(humanMilliseconds($0))" } ?? ""
            print("took \(humanMilliseconds(phases.total)) (\(waited)stop receiver \(humanMilliseconds(phases.stopReceiver)), "
                + "apply \(humanMilliseconds(phases.applyFlushed)), new epoch \(humanMilliseconds(phases.commitRestore))\(stopped))")
        }
    }
}
