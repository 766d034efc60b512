import Testing
import Tranlog
import Transport

@testable import Replication

/// What a synchronous primary relies on: acks that follow each flush and each apply without waiting
/// for the heartbeat, and a shipper that says when it has sent everything durable.
@Suite struct SynchronousAckTests {
    /// A primary with `commits` records and a receiver that took them all; no time has passed.
    private func streamed(commits: Int, batchBytes: Int? = nil) throws -> (ReplicationHarness, LogReceiver, LogShipper) {
        let harness = try ReplicationHarness()
        if let batchBytes { harness.shipperConfiguration.batchBytes = batchBytes }
        try harness.primary.commit(commits)
        try harness.listen()
        let receiver = try harness.makeReceiver()
        receiver.start()
        harness.loop.run()
        return (harness, receiver, try #require(harness.shippers.first))
    }

    @Test func flushAndApplyAreAcknowledgedBeforeTheNextHeartbeat() throws {
        let (harness, receiver, shipper) = try streamed(commits: 10)
        #expect(shipper.status.acked.flushed == harness.primary.lastSeqno)

        try harness.primary.commit(5)
        shipper.logAdvanced()
        harness.loop.run()
        #expect(shipper.status.acked.flushed == harness.primary.lastSeqno)
        #expect(shipper.status.acked.applied == .zero)

        receiver.applied(through: harness.primary.lastSeqno, time: startOfTime)
        harness.loop.run()  // no time passes: no heartbeat, no tick
        #expect(shipper.status.acked.applied == harness.primary.lastSeqno)
    }

    @Test func theShipperIsCaughtUpOnceItSentEverythingDurable() throws {
        let (harness, _, shipper) = try streamed(commits: 40, batchBytes: 512)
        #expect(shipper.status.caughtUp)
        #expect(shipper.status.sentSeqno == harness.primary.lastSeqno)
    }
}
