import ArgumentParser
import Foundation
import Node
import Repository

/// `understudy verify --node A --node B`: do two nodes hold the same content at a common seqno?
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare two nodes' content at a common seqno; exit status 1 when it differs.",
        discussion: """
            Reads both nodes' content digest (GET /status, repository.digest) and compares them once both \
            stand at the same applied seqno, waiting up to --timeout for the one behind. A primary under \
            writes keeps moving: verify is meant for a quiet primary and its standby, or two standbys; the \
            continuous check is the standby's own, against every heartbeat (state offline, fault diverged). \
            On a difference it names the seqno and both digests, and pages through both nodes' keys in byte \
            order to name the first key whose value or write seqno differs.
            """)

    @Option(name: .customLong("node"), help: ArgumentHelp("A node's HTTP API; give exactly two.", valueName: "URL"))
    var nodes: [String] = []

    @OptionGroup(title: "TLS (https:// node URLs; the same for both)") var tls: ClientTLSOptions

    @Option(help: ArgumentHelp("Seconds to wait for both nodes to stand at the same seqno.", valueName: "S"),
            transform: ArgumentParsing.seconds)
    var timeout = 30.0

    @Flag(help: "Print the verdict as JSON.")
    var json = false

    func validate() throws {
        guard nodes.count == 2 else { throw ValidationError("give exactly two nodes: --node URL --node URL (got \(nodes.count))") }
    }

    struct Verdict: Encodable {
        var equal: Bool
        var seqno: UInt64
        var digests: [String]
        var nodes: [String]
        var firstDifference: KeyDifference?
    }

    func run() throws {
        let clients = try nodes.map { try NodeClient(url: $0, timeout: NodeOptions.defaultTimeout, tls: tls.configuration) }
        defer { clients.forEach { $0.close() } }
        let comparison = NodeComparison(clients[0], clients[1])
        let deadline = ContinuousClock.now + ArgumentParsing.duration(seconds: timeout)
        guard let (first, second) = try comparison.digestsAtCommonSeqno(deadline: deadline) else {
            throw ValidationError("\(nodes[0]) and \(nodes[1]) did not stand at the same applied seqno within \(timeout) s: nothing compared")
        }
        let equal = first.value == second.value
        let verdict = Verdict(
            equal: equal, seqno: first.seqno.rawValue, digests: ["\(first.value)", "\(second.value)"], nodes: nodes,
            firstDifference: equal ? nil : try comparison.firstDifference())
        json ? print(try jsonLine(verdict)) : printVerdict(verdict)
        if !equal { throw ExitCode.failure }
    }

    private func printVerdict(_ verdict: Verdict) {
        guard !verdict.equal else {
            return print("equal: both nodes hold the same content at seqno \(verdict.seqno) (digest \(verdict.digests[0]))")
        }
        print("DIFFERENT at seqno \(verdict.seqno): \(nodes[0]) has digest \(verdict.digests[0]), \(nodes[1]) has \(verdict.digests[1])")
        guard let difference = verdict.firstDifference else {
            return print("no differing key found: the nodes moved on since (run verify again while they are quiet)")
        }
        print("first differing key: \(renderKey(difference.key.bytes))")
        print("  \(nodes[0]): \(difference.first.map(\.description) ?? "no value")")
        print("  \(nodes[1]): \(difference.second.map(\.description) ?? "no value")")
    }
}
