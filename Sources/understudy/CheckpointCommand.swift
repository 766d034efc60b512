import ArgumentParser
import Foundation
import Node
import Repository
import SystemPackage

/// `understudy checkpoint`: asks a running node to take a checkpoint now (an admin endpoint).
struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Take a checkpoint on a running node now.",
        discussion: "Needs the admin token: --data DIR reads DIR/admin.token, else UNDERSTUDY_ADMIN_TOKEN is used.")

    @Option(help: ArgumentHelp("The node's data directory, to read its admin token.", valueName: "DIR"))
    var data: String?

    @OptionGroup var node: NodeOptions

    @Flag(help: "Print the answer as JSON.")
    var json = false

    func run() throws {
        let token = try adminToken()
        let reply = try node.withClient { try $0.checkpoint(token: token) }
        if json { return print(try jsonLine(reply)) }
        let what = reply.taken ? "checkpoint taken" : "nothing changed since the last checkpoint"
        print("\(what): manifest generation \(reply.manifestGeneration), seqno \(reply.position.seqno)")
    }

    private func adminToken() throws -> String {
        if let data { return try AdminToken.read(DataDirectory(FilePath(data))) }
        if let token = ProcessInfo.processInfo.environment["UNDERSTUDY_ADMIN_TOKEN"] { return token }
        throw CommandError("the admin token is needed: pass --data DIR (reads DIR/admin.token) or set UNDERSTUDY_ADMIN_TOKEN")
    }
}
