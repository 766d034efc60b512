import Cluster
import Foundation
import Logging
import SystemPackage
import Testing
import Tranlog

/// A real etcd cluster on 127.0.0.1: one member, or three for the quorum tests, each on free ports
/// with its data in the test's directory. etcd must be installed (`apt-get install etcd-server`, as
/// `.ci/run` does): missing, the test fails. Members can be killed and started again (same data).
final class EtcdServer: @unchecked Sendable {
    /// etcd's own default, passed explicitly because the quorum tests' bounds depend on it: a leader
    /// that lost its quorum steps down (and stops renewing leases) within two of these.
    static let electionTimeoutSeconds = 1.0

    struct Member {
        let name: String
        let clientPort: Int
        let peerPort: Int
        let dataDirectory: URL
        var process: ChildProcess?

        var clientURL: String { "http://127.0.0.1:\(clientPort)" }
        var peerURL: String { "http://127.0.0.1:\(peerPort)" }
    }

    private let etcd: String
    private let directory: URL
    private(set) var members: [Member] = []

    init(members count: Int = 1, in directory: URL) throws {
        etcd = try InstalledTool.path("etcd", install: "apt-get install etcd-server (.ci/run does)")
        self.directory = directory
        for index in 0..<count {
            members.append(Member(
                name: "etcd\(index)", clientPort: try Loopback.freePort(), peerPort: try Loopback.freePort(),
                dataDirectory: directory.appendingPathComponent("etcd\(index).etcd")))
        }
        for index in members.indices { try start(index, awaitHealthy: false) }
        try awaitQuorum()
    }

    /// Every member's client URL, comma-separated: the `--etcd` of a node.
    var urls: String { members.map(\.clientURL).joined(separator: ",") }

    /// Starts member `index` (again, on its data when it ran before).
    func start(_ index: Int, awaitHealthy: Bool = true) throws {
        let member = members[index]
        let arguments = [
            "--name", member.name, "--data-dir", member.dataDirectory.path,
            "--listen-client-urls", member.clientURL, "--advertise-client-urls", member.clientURL,
            "--listen-peer-urls", member.peerURL, "--initial-advertise-peer-urls", member.peerURL,
            "--initial-cluster", members.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ","),
            "--initial-cluster-state", "new", "--initial-cluster-token", "understudy-test",
            "--heartbeat-interval", "100", "--election-timeout", "\(Int(Self.electionTimeoutSeconds * 1000))",
        ]
        let log = FilePath(directory.appendingPathComponent("\(member.name).log").path)
        members[index].process = try ChildProcess(
            etcd, arguments, standardOutput: .file(log, append: true), standardError: .file(log, append: true))
        if awaitHealthy { try awaitQuorum() }
    }

    /// SIGKILL of member `index`, waited for.
    func kill(_ index: Int) {
        guard let process = members[index].process else { return }
        process.send(SIGKILL)
        _ = process.waitForExit()
        members[index].process = nil
    }

    /// Waits until the cluster serves a linearizable read (a quorum with a leader).
    func awaitQuorum(within seconds: Double = 30) throws {
        let client = try EtcdClient(commaSeparated: urls, timeout: .seconds(1), logger: Logger(label: "test.etcd"))
        defer { client.close() }
        let deadline = Date().addingTimeInterval(seconds)
        var lastError = ""
        while Date() < deadline {
            do {
                _ = try client.get("/understudy-test/health")
                return
            } catch {
                lastError = "\(error)"
            }
            for member in members where member.process != nil {
                try #require(member.process!.isRunning, "etcd member \(member.name) exited: \(log(of: member))")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("etcd had no quorum within \(seconds) s: \(lastError)")
        throw EtcdTestFailure.noQuorum
    }

    func log(of member: Member) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("\(member.name).log"), encoding: .utf8)) ?? ""
    }

    func cleanUp() {
        for index in members.indices { kill(index) }
    }

    enum EtcdTestFailure: Error { case noQuorum }
}
