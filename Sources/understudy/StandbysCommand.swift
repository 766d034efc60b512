import ArgumentParser
import Foundation
import Logging
import Node
import Repository
import SystemPackage
import Tranlog

/// `understudy standbys …`: the standbys a primary keeps tranlogs for (its replication slots).
struct StandbysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "standbys",
        abstract: "List the standbys a primary keeps tranlogs for, or forget a decommissioned one.",
        discussion: """
            A primary remembers every standby it admitted (DATA/standbys.json) and keeps the tranlogs it still \
            needs, also while it is disconnected and across restarts. Forget a standby that will not come back, \
            or its logs are kept forever (up to --max-retained-mbytes in partial logging mode).
            """,
        subcommands: [StandbysList.self, StandbysForget.self])
}

/// `--data DIR` (a stopped node; with --node only for the admin token) and `--node URL`.
struct StandbyTargetOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The data directory (of a stopped node; with --node only for its admin token).", valueName: "DIR"))
    var data: String?

    @Option(name: .customLong("node"), help: ArgumentHelp("A running node's HTTP API.", valueName: "URL"))
    var node: String?

    @OptionGroup(title: "TLS (https:// node URLs)") var tls: ClientTLSOptions

    func validate() throws {
        if node == nil && data == nil { throw ValidationError("pass --data DIR (a stopped node) or --node URL (a running one)") }
    }

    func withClient<Value>(_ node: String, _ body: (NodeClient) throws -> Value) throws -> Value {
        let client = try NodeClient(url: node, timeout: NodeOptions.defaultTimeout, tls: tls.configuration)
        defer { client.close() }
        return try body(client)
    }
}

struct StandbysList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the known standbys: connected or not, what they need, what is kept for them.")

    @OptionGroup var target: StandbyTargetOptions

    @Flag(help: "Print the list as JSON.")
    var json = false

    func run() throws {
        if let node = target.node {
            let status = try target.withClient(node) { try $0.status() }
            let rows = status.standbys ?? []
            if json { return print(try jsonDocument(rows)) }
            if rows.isEmpty { print("no known standbys") }
            rows.forEach { print(StatusWatchView.standbyRow($0, primarySeqno: status.repository.applied.seqno)) }
            if let retention = status.retention { print(StatusWatchView.retentionLine(retention)) }
            return
        }
        let known = try KnownStandbys(directory: DataDirectory(FilePath(target.data!)), fileSystem: PosixFileSystem()).all
        if json { return print(try jsonDocument(known)) }
        if known.isEmpty { print("no known standbys") }
        for standby in known {
            print("standby \(standby.nodeID) at \(standby.address): flushed \(standby.flushedSeqno), applied \(standby.appliedSeqno), "
                + "needs \(standby.neededFileID.fileName) and later, last seen \(standby.lastSeen)")
        }
    }
}

struct StandbysForget: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Forget a decommissioned standby: its tranlogs are no longer kept.",
        discussion: "A connected standby registers again with its next acknowledgement: stop it first.")

    @Argument(help: ArgumentHelp("The standby's node id (its source id, as `standbys list` shows it).", valueName: "NODE-ID"))
    var nodeID: String

    @OptionGroup var target: StandbyTargetOptions

    @Flag(help: "Print the forgotten standby as JSON.")
    var json = false

    func run() throws {
        let forgotten: KnownStandby
        if let node = target.node {
            let token = try AdminOptions.token(data: target.data)
            forgotten = try target.withClient(node) { try $0.forgetStandby(nodeID, token: token) }.forgotten
        } else {
            let logs = try StoppedRepositoryLogs(DataDirectory(FilePath(target.data!)), logger: Logger(label: "understudy.standbys"))
            defer { logs.close() }
            guard let known = try logs.knownStandbys.forget(nodeID) else {
                throw CommandError("no known standby \(nodeID); `understudy standbys list --data \(target.data!)` shows the known ones")
            }
            forgotten = known
        }
        if json { return print(try jsonLine(forgotten)) }
        print("forgot standby \(forgotten.nodeID) (it needed \(forgotten.neededFileID.fileName) and later); its tranlogs are no longer kept")
    }
}
