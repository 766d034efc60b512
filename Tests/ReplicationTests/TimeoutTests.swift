import Testing
import Tranlog
import Transport

@testable import Replication

/// A half-open connection (a host that vanished in a partition, no FIN, no RST) never closes by
/// itself: both ends drop a connection silent for `timeoutIntervals` heartbeats, and the standby
/// connects again.
@Suite struct TimeoutTests {
    @Test func aStandbyDropsAPrimarySilentForFifteenHeartbeatsAndReconnects() throws {
        let harness = try ReplicationHarness()
        let (receiver, primary) = try harness.receiverWithScriptedPrimary()
        primary.send(.challenge(HelloProof.makeChallenge()))
        harness.loop.run()  // the hello, whose challenge the welcome signs
        primary.send(.welcome(Welcome(repositoryID: testRepository, position: LogPosition(epoch: .first, seqno: .zero), history: firstEpochHistory)))
        harness.loop.run()
        #expect(receiver.state == .streaming)

        // A heartbeat at 10 s restarts the count: 14 s later the connection is still up.
        harness.loop.advanceTime(by: .seconds(10))
        primary.send(.heartbeat(Heartbeat(lastSeqno: .zero, primaryTime: startOfTime, digest: noDigest)))
        harness.loop.advanceTime(by: .seconds(14))
        #expect(primary.closeReason == nil)
        #expect(receiver.state == .streaming)

        harness.loop.advanceTime(by: .seconds(1))
        #expect(primary.closeReason == .peerClosed)
        #expect(receiver.state != .streaming)
        harness.loop.advanceTime(by: .seconds(1))
        #expect(receiver.consecutiveFailures == 1)
        #expect(receiver.state == .awaitingChallenge, "reconnected after the backoff")
    }

    @Test func aPrimaryDropsAStandbySilentForFifteenHeartbeats() throws {
        let harness = try ReplicationHarness()
        try harness.listen()
        let standby = try harness.scriptedStandby()
        guard case .challenge(let challenge)? = standby.messages.first else {
            Issue.record("no challenge first")
            return
        }
        let hello = Hello(
            repositoryID: testRepository, sourceID: standbySource, position: LogPosition(epoch: .first, seqno: .zero),
            recordCRC: 0, mirrorEnd: nil, history: firstEpochHistory)
        standby.send(.hello(HelloProof.sign(hello, challenge: challenge, key: sharedKey)))
        harness.loop.run()
        #expect(harness.shippers[0].status.state == .streaming)

        // An ack at 10 s restarts the count.
        harness.loop.advanceTime(by: .seconds(10))
        standby.send(.ack(Ack(received: .zero, flushed: .zero, applied: .zero)))
        harness.loop.advanceTime(by: .seconds(14))
        #expect(harness.shippers[0].status.state == .streaming)

        harness.loop.advanceTime(by: .seconds(1))
        #expect(standby.closeReason == .peerClosed)
        guard case .closed(let reason) = harness.shippers[0].status.state else {
            Issue.record("still \(harness.shippers[0].status.state)")
            return
        }
        #expect(reason.contains("replication timeout"), "\(reason)")
    }
}
