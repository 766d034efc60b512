import ArgumentParser
import Node

/// `understudy unfence`: lifts a fence, so the node accepts commits again. Only for an operator who
/// knows no other node accepts writes (a fence set by mistake).
struct UnfenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unfence",
        abstract: "Let a fenced node accept commits again (only if no other node accepts writes).",
        discussion: "If the epoch that fenced the node has a primary taking writes, the two histories diverge: re-seed the "
            + "node as a standby instead (docs/OPERATIONS.md, \"The old primary\"). " + AdminOptions.tokenHelp)

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print the answer as JSON.")
    var json = false

    func run() throws {
        let reply = try admin.withClient { try $0.unfence(token: $1) }
        if json { return print(try jsonLine(reply)) }
        guard let lifted = reply.lifted else { return print("The node was not fenced; nothing changed.") }
        print("Unfenced: the node accepts commits again (it was \(lifted.message), learned from \(lifted.learnedFrom), since \(lifted.since)).")
    }
}
