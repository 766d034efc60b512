import ArgumentParser
import Node

/// `understudy checkpoint`: asks a running node to take a checkpoint now (an admin endpoint).
struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Take a checkpoint on a running node now.",
        discussion: AdminOptions.tokenHelp)

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print the answer as JSON.")
    var json = false

    func run() throws {
        let reply = try admin.withClient { try $0.checkpoint(token: $1) }
        if json { return print(try jsonLine(reply)) }
        let what = reply.taken ? "checkpoint taken" : "nothing changed since the last checkpoint"
        print("\(what): manifest generation \(reply.manifestGeneration), seqno \(reply.position.seqno)")
    }
}
