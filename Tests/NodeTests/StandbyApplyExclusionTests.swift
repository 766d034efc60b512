import Foundation
import Repository
import SystemPackage
import Testing
import Tranlog
import Transport
import UnderstudyTesting

@testable import Node

/// A caught-up standby prepares each drain's step before the mirror writer syncs it, or, when a
/// synchronous primary waits for its acks, on its prepare queue while the sync runs. Either way the
/// preparation and the apply queue take turns at the repository (`StandbyReplica.applyExclusion`),
/// the sync never waits for an apply, and the writer never waits for a preparation that has not
/// started when its sync returns.
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
            // The writer syncs without waiting for the apply (the step is not prepared).
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

    @Test func aPreparationThatHasNotStartedIsNotWaitedFor() throws {
        try withPrimaryAndStandby(synchronous: true) { primary, standby in
            let first = try primary.put(key: [UInt8]("k"), value: [UInt8]("1")).seqno
            try awaitStandby(standby, "applied \(first)") { $0.repository.applied.seqno >= first }
            let replica = try standby.standbyReplica()
            try awaitStandby(standby, "a heartbeat saying its acks are awaited") { _ in replica.acksAwaited.withLock { $0 } }

            // The prepare queue's thread gets no vCPU until the sync has returned (a busy machine).
            replica.prepareQueue.suspend()
            var suspended = true
            defer { if suspended { replica.prepareQueue.resume() } }
            let second = try primary.put(key: [UInt8]("k"), value: [UInt8]("2")).seqno
            try awaitStandby(standby, "applied \(second) with its preparation not started") { $0.repository.applied.seqno >= second }

            // The late preparation finds its drain synced and leaves the repository alone.
            replica.prepareQueue.resume()
            suspended = false
            replica.prepareQueue.sync {}
            let third = try primary.put(key: [UInt8]("k"), value: [UInt8]("3")).seqno
            try awaitStandby(standby, "applied \(third)") { $0.repository.applied.seqno >= third }
            let client = try NodeClient(address: standby.httpAddress, timeout: .seconds(10), logger: quietLogger)
            defer { client.close() }
            #expect(try client.get(key: [UInt8]("k")) == FetchedObject(value: [UInt8]("3"), seqno: third))
            #expect(standby.status.replication?.offline == nil)
        }
    }

    /// A primary serving standbys and a standby following it, on copies of one fresh data directory.
    /// With `synchronous`, the primary's commits wait for the standby's acks.
    func withPrimaryAndStandby(synchronous: Bool = false, _ body: (NodeClient, UnderstudyNode) throws -> Void) throws {
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
            $0.synchronous.standbys = synchronous ? 1 : 0
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
