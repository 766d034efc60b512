import ArgumentParser

/// `understudy restore …`: the manual's restore procedure on a node started with `--restore-mode`.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup, replay transaction logs, and commit the restore, on a node in restore mode.",
        discussion: """
            Start the node with `understudy start --data DIR --restore-mode`, then: `restore backup FILE…` \
            (unless DIR is an extent snapshot), `restore logs` (as often as needed: archived logs with \
            --archive, then the node's own), and `restore commit`. `understudy status` shows where the \
            restore stands.
            """,
        subcommands: [RestoreBackup.self, RestoreLogs.self, RestoreCommit.self])
}
