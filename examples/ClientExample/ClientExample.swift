import ArgumentParser
import Node
import Repository
import Tranlog

/// A small client of a primary and its hot standby through the HTTP API (via `NodeClient`): two
/// accounts, transfers with optimistic concurrency (each commit names the seqno of the values it read,
/// and is retried on a conflict), then read-your-writes on the standby: wait until it has applied the
/// last transfer's seqno, and read the balances there.
@main
struct ClientExample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "understudy-client-example",
        abstract: "Transfers between two accounts on a primary, then reads them back from a standby.")

    @Option(help: "The primary's HTTP URL.") var primary = NodeClient.defaultURL
    @Option(help: "A standby's HTTP URL: read the balances there once it has applied the last transfer.") var standby: String?
    @Option(help: "How many transfers.") var transfers = 20
    @Option(help: "Seconds to wait for the standby to apply the last transfer.") var waitSeconds = 10.0

    func run() throws {
        let bank = try Bank(client: NodeClient(url: primary))
        defer { bank.client.close() }
        try bank.open(["alice", "bob"], balance: 100)
        var last = Seqno.zero
        for index in 0..<transfers {
            let (from, to) = index.isMultiple(of: 2) ? ("alice", "bob") : ("bob", "alice")
            let receipt = try bank.transfer(7, from: from, to: to)
            last = receipt.commit.seqno
            print("transfer \(index + 1): 7 from \(from) to \(to) at seqno \(receipt.commit.seqno) (\(receipt.conflicts) conflict(s) retried)")
        }
        let balances = try bank.balances(["alice", "bob"])
        print("primary: \(Self.describe(balances))")
        guard let standby else { return }
        let replica = try Bank(client: NodeClient(url: standby))
        defer { replica.client.close() }
        let applied = try replica.waitUntilApplied(last, seconds: waitSeconds)
        let replicated = try replica.balances(["alice", "bob"])
        print("standby (applied through seqno \(applied)): \(Self.describe(replicated))")
        guard replicated == balances else { throw ValidationError("the standby's balances differ from the primary's") }
    }

    private static func describe(_ balances: [String: Int]) -> String {
        balances.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            + "; total \(balances.values.reduce(0, +))"
    }
}
