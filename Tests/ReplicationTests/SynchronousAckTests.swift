import Testing
import Tranlog
import Transport

@testable import Replication

/// What a synchronous primary relies on: acks that follow each flush and each apply without waiting
/// for the heartbeat, and a shipper that says when it has sent everything durable.
@Suite struct SynchronousAckTests {
    @Test func flushAndApplyAreAcknowledgedBeforeTheNextHeartbeat() throws {
        let harness = try ReplicationHarness()
        try harness.primary.commit(10)
        try harness.listen()
        let receiver = try harness.makeReceiver()
        receiver.start()
        harness.loop.run()
        let shipper = try #require(harness.shippers.first)
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
        let harness = try ReplicationHarness()
        harness.shipperConfiguration.batchBytes = 512
        try harness.primary.commit(40)
        try harness.listen()
        let receiver = try harness.makeReceiver()
        receiver.start()
        harness.loop.run()
        let shipper = try #require(harness.shippers.first)
        #expect(shipper.status.caughtUp)
        #expect(shipper.status.sentSeqno == harness.primary.lastSeqno)
    }
}
