import ArgumentParser
import Node

/// `understudy synchronous set`: synchronous replication's settings, changed on a running primary.
struct SynchronousCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synchronous",
        abstract: "Change how many standbys a running primary's commits wait for.",
        subcommands: [SynchronousSet.self])
}

/// `understudy synchronous set --standbys N [--level L]` (`POST /admin/synchronous`).
struct SynchronousSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set the number of standbys (0: asynchronous) and optionally the level, without a restart.",
        discussion: """
            Lowering the number acknowledges the waiting commits the new number covers (0: all of them); \
            the answer says how many. The settings last until the node stops: put them in `start`'s flags \
            to keep them. \(AdminOptions.tokenHelp)
            """)

    @Option(help: ArgumentHelp("Standbys a commit waits for (0: asynchronous).", valueName: "N"))
    var standbys: Int

    @Option(help: ArgumentHelp("received, flushed or applied (default: unchanged).", valueName: "LEVEL"), transform: SynchronousOptions.level)
    var level: SynchronousLevel?

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print the answer as JSON.")
    var json = false

    func validate() throws {
        if standbys < 0 { throw ValidationError("--standbys must be 0 (asynchronous) or more") }
    }

    func run() throws {
        let reply = try admin.withClient { try $0.setSynchronous(SynchronousSetRequest(standbys: standbys, level: level), token: $1) }
        if json { return print(try jsonLine(reply)) }
        print(reply.message)
        if let status = reply.synchronous { print(status.summary) }
    }
}
