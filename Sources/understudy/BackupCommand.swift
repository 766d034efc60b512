import ArgumentParser

/// `understudy backup …`: full backups (through a running node), their verification (offline), and
/// extent snapshots of a running node's data directory.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Make and verify backups: full backups, and extent snapshots taken with checkpoints suspended.",
        subcommands: [BackupFull.self, BackupVerify.self, BackupSnapshot.self])
}
