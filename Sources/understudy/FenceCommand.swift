import ArgumentParser
import Node
import Tranlog

/// `understudy fence`: tells a node that a newer epoch exists (another node was promoted), so it
/// refuses every commit from now on, across restarts (docs/OPERATIONS.md, "Fencing").
struct FenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fence",
        abstract: "Make an old primary refuse every commit: another node was promoted.",
        discussion: "Without --epoch the node is fenced at its own epoch + 1. A node already fenced at that epoch or a newer "
            + "one is left as it is. `understudy unfence` lifts the fence. " + AdminOptions.tokenHelp)

    @OptionGroup var admin: AdminOptions

    @Option(help: ArgumentHelp("The newer epoch (the promoted node's `status` shows it).", valueName: "E"))
    var epoch: UInt64?

    @Option(help: ArgumentHelp("The seqno that epoch began at, if known (for the refusal message).", valueName: "S"))
    var seqno: UInt64?

    @Option(name: .customLong("opened-by"), help: ArgumentHelp("The node that opened that epoch, if known (for the refusal message).", valueName: "NODE"))
    var openedBy: String?

    @Flag(help: "Print the answer as JSON.")
    var json = false

    func run() throws {
        let request = FenceRequest(epoch: epoch.map { Epoch($0) }, seqno: seqno.map { Seqno($0) }, node: openedBy)
        let reply = try admin.withClient { try $0.fence(request, token: $1) }
        if json { return print(try jsonLine(reply)) }
        let fence = reply.fence
        print(reply.changed ? "Fenced: \(fence.message)." : "Already \(fence.message) (since \(fence.since)); nothing changed.")
        print("It refuses every commit; no commit past seqno \(fence.acknowledgedThrough) was acknowledged by it.")
    }
}
