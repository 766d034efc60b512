import ArgumentParser
import Foundation
import Node
import Repository
import Tranlog

/// `--node URL`, shared by every verb that talks to a running node.
struct NodeOptions: ParsableArguments {
    @Option(name: .customLong("node"), help: ArgumentHelp("The node's HTTP API.", valueName: "URL"))
    var url = NodeClient.defaultURL

    @OptionGroup(title: "TLS (https:// node URLs)") var tls: ClientTLSOptions

    static let defaultTimeout = Duration.seconds(30)

    /// Runs `body` with a client for the node, closed afterwards.
    func withClient<Value>(timeout: Duration = defaultTimeout, _ body: (NodeClient) throws -> Value) throws -> Value {
        let client = try NodeClient(url: url, timeout: timeout, tls: tls.configuration)
        defer { client.close() }
        return try body(client)
    }
}

/// `--if-absent` / `--if-written-at SEQNO`: the conditions a single-object write may carry.
struct WriteConditionOptions: ParsableArguments {
    @Flag(name: .customLong("if-absent"), help: "Write only if the key has no value (else conflict, exit status 1).")
    var ifAbsent = false

    @Option(name: .customLong("if-written-at"), help: ArgumentHelp(
        "Write only if the key's value was written by this seqno (as `get` reports it).", valueName: "SEQNO"))
    var ifWrittenAt: UInt64?

    func validate() throws {
        if ifAbsent && ifWrittenAt != nil { throw ValidationError("--if-absent and --if-written-at exclude each other") }
    }

    var expectation: Precondition.Expectation? {
        if ifAbsent { return .absent }
        return ifWrittenAt.map { .writtenAt(Seqno($0)) }
    }
}

/// How every write verb reports its commit.
func printCommitted(_ reply: CommitReply, json: Bool) throws {
    if json {
        print(try jsonLine(reply))
    } else {
        print("committed seqno \(reply.seqno) (epoch \(reply.epoch), event \(reply.eventID))")
    }
}
