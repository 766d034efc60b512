import ArgumentParser
// For its link line only: the process allocates through jemalloc (docs/DECISIONS.md, "jemalloc as
// the allocator"); Node reads its statistics for the heap gauges.
import CJemalloc

/// The `understudy` command: only the table of its subcommands. Each verb lives in its own file.
@main
struct Understudy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "understudy",
        abstract: "Understudy: a warm/hot standby replication service.",
        discussion: "Run `understudy help <subcommand>` for the details of each command.",
        subcommands: [
            InitCommand.self, StartCommand.self, StandbyGroup.self, PromoteCommand.self, PutCommand.self, GetCommand.self, DeleteCommand.self, ListCommand.self,
            CommitCommand.self, StatusCommand.self, CheckpointCommand.self, CheckpointsCommand.self, BackupCommand.self, RestoreCommand.self,
            TranlogCommand.self, ExtentCommand.self, AuditCommand.self, PositionCommand.self, StandbysCommand.self,
            SynchronousCommand.self, VerifyCommand.self,
            FenceCommand.self, UnfenceCommand.self, JoinCommand.self, ClusterCommand.self,
        ])
}
