import ArgumentParser

/// `understudy checkpoints resume`: says whether a snapshot taken meanwhile is usable.
struct CheckpointsResume: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume checkpoints, and say whether they were still suspended.",
        discussion: """
            "were still suspended: yes" means a copy made since the suspension is a usable snapshot. "no" means \
            the suspension had lapsed (or there was none): discard such a copy and take it again. \
            \(AdminOptions.tokenHelp)
            """)

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print {\"wereStillSuspended\": BOOL} as JSON.")
    var json = false

    func run() throws {
        let reply = try admin.withClient { try $0.resumeCheckpoints(token: $1) }
        if json { return print(try jsonLine(reply)) }
        print(reply.wereStillSuspended
            ? "checkpoints resumed; were still suspended: yes (a snapshot taken meanwhile is usable)"
            : "checkpoints resumed; were still suspended: no (a snapshot taken meanwhile is NOT usable)")
    }
}
