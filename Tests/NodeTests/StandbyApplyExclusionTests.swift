import Foundation
import Repository
import SystemPackage
import Testing
import Tranlog
import Transport
import UnderstudyTesting

@testable import Node

/// A standby's mirror writer prepares a caught-up step before it syncs, while an apply may be running
/// on the apply queue: the two take turns at the repository (`StandbyReplica.applyExclusion`). The
/// writer never waits for an apply before its sync, and what it synced meanwhile is applied once the
/// apply is done.
@Suite(.timeLimit(.minutes(2))) struct StandbyApplyExclusionTests {
    @Test func recordsSyncedDuringAnApplyAreAppliedAfterIt() throws {
        try withPrimaryAndStandby { primary, standby in
            let first = try primary.put(key: [UInt8]("k"), value: [UInt8]("1")).seqno
            try awaitStandby(standby, "applied \(first)") { $0.repository.applied.seqno >= first }
            let replica = try standby.standbyReplica()

            // As an apply in progress would.
            replica.applyExclusion.lock()
            var held = true
            defer { if held { replica.applyExclusion.unlock() } }
            let second = try primary.put(key: [UInt8]("k"), value: [UInt8]("2")).seqno
            // The writer syncs without waiting for the apply (it skips the step it would prepare).
            try awaitStandby(standby, "synced \(second)") { ($0.replication?.applyBacklog?.syncedSeqno ?? .zero) >= second }
            #expect(standby.status.repository.applied.seqno < second, "applied while the apply queue held the repository")

            replica.applyExclusion.unlock()
            held = false
            try awaitStandby(standby, "applied \(second)") { $0.repository.applied.seqno >= second }
            let client = try NodeClient(address: standby.httpAddress, timeout: .seconds(10), logger: quietLogger)
            defer { client.close() }
            #expect(try client.get(key: [UInt8]("k")) == FetchedObject(value: [UInt8]("2"), seqno: second))
            #expect(standby.status.replication?.offline == nil)
        }
    }

    /// A primary serving standbys and a standby following it, on copies of one fresh data directory.
    func withPrimaryAndStandby(_ body: (NodeClient, UnderstudyNode) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("understudy-apply-exclusion-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let keyFile = root.appendingPathComponent("replication.key")
        try writeSecret("sixteen-or-more-bytes\n", to: keyFile)
        let primaryDirectory = DataDirectory(FilePath(root.appendingPathComponent("primary").path))
        let standbyDirectory = DataDirectory(FilePath(root.appendingPathComponent("standby").path))
        try DataDirectory.initialize(primaryDirectory.root, sourceID: SourceID("apply-exclusion")!, loggingMode: .full)
        try FileManager.default.copyItem(atPath: primaryDirectory.root.string, toPath: standbyDirectory.root.string)

        let (primary, client) = try NodeFixture.start(primaryDirectory) {
            $0.replicationKeyFile = FilePath(keyFile.path)
            $0.replicationAddress = SocketAddress(host: "127.0.0.1", port: 0)
        }
        defer {
            client.close()
            try? primary.stop()
        }
        let (standby, standbyClient) = try NodeFixture.start(standbyDirectory) {
            $0.replicationKeyFile = FilePath(keyFile.path)
            $0.standbyOf = primary.replicationAddress
        }
        standbyClient.close()
        defer { try? standby.stop() }
        try body(client, standby)
    }

    /// Waits (with a deadline) until `condition` holds of the standby's status.
    func awaitStandby(_ standby: UnderstudyNode, _ what: String, _ condition: (NodeStatus) -> Bool) throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition(standby.status) {
            try #require(ContinuousClock.now < deadline, "the standby never reached \(what)")
            usleep(1_000)
        }
    }
}
