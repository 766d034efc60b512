import Testing
import Tranlog

@testable import Replication

@Suite struct LagTests {
    @Test func idleAndCaughtUpShowsZeroAndAppliedLagIsMeasuredOnThePrimaryClock() throws {
        let harness = try ReplicationHarness()
        try harness.primary.commit(30)  // all committed at startOfTime
        try harness.listen()
        let receiver = try harness.makeReceiver()
        #expect(receiver.lag.state == .disconnected)
        receiver.start()
        harness.loop.run()
        harness.primary.clock.advance(seconds: 5)
        receiver.applied(through: Seqno(10), time: startOfTime)

        harness.loop.advanceTime(by: .seconds(1))
        var lag = receiver.lag
        #expect(lag.primaryLastSeqno == harness.primary.lastSeqno)
        #expect(lag.primaryTime == harness.primary.clock.now)
        #expect(lag.received.recordsBehind == 0 && lag.received.secondsBehind == 0)
        #expect(lag.flushed.recordsBehind == 0 && lag.flushed.bytesBehind == 0)
        #expect(lag.applied.recordsBehind == harness.primary.lastSeqno.rawValue - 10)
        #expect(lag.applied.secondsBehind == 5)
        #expect(lag.state == .streaming)
        #expect(harness.shippers[0].status.acked.applied == Seqno(10))

        receiver.applied(through: harness.primary.lastSeqno, time: startOfTime)
        harness.loop.advanceTime(by: .seconds(1))
        lag = receiver.lag
        #expect(lag.applied.recordsBehind == 0 && lag.applied.secondsBehind == 0)
        #expect(lag.state == .idle)
    }

    @Test func silenceMakesAStandbyStalledAndAHeartbeatRevivesIt() throws {
        let harness = try ReplicationHarness()
        let (receiver, primary) = try harness.receiverWithScriptedPrimary()
        primary.send(.challenge(HelloProof.makeChallenge()))
        primary.send(.welcome(Welcome(repositoryID: testRepository, position: LogPosition(epoch: .first, seqno: .zero), history: firstEpochHistory)))
        harness.loop.run()
        #expect(receiver.lag.state == .idle)

        harness.loop.advanceTime(by: .seconds(2))
        #expect(receiver.lag.state == .idle)
        harness.loop.advanceTime(by: .seconds(1))
        #expect(receiver.lag.state == .stalled)

        primary.send(.heartbeat(Heartbeat(lastSeqno: Seqno(50), primaryTime: startOfTime)))
        harness.loop.run()
        let lag = receiver.lag
        #expect(lag.state == .catchingUp)
        #expect(lag.received.recordsBehind == 50)
    }
}
