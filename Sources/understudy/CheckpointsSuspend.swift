import ArgumentParser

/// `understudy checkpoints suspend --minutes N`.
struct CheckpointsSuspend: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suspend",
        abstract: "Suspend checkpoints for N minutes (after any checkpoint in progress finishes).",
        discussion: """
            While suspended, the extent files do not change, so a file copy of the data directory is a \
            consistent snapshot. Resume with `understudy checkpoints resume` as soon as the copy is done, and \
            check what it says. \(AdminOptions.tokenHelp)
            """)

    @Option(help: "How long checkpoints stay suspended at most.")
    var minutes: UInt64

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print the suspension status as JSON.")
    var json = false

    func run() throws {
        // A suspension waits for a checkpoint in progress, which may take a while on a busy node.
        try printSuspension(try admin.withClient(timeout: AdminOptions.longOperationTimeout) { try $0.suspendCheckpoints(minutes: minutes, token: $1) }, json: json)
    }
}
