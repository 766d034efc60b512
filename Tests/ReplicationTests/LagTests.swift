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
        harness.loop.run()  // the hello, whose challenge the welcome signs
        primary.send(.welcome(Welcome(repositoryID: testRepository, position: LogPosition(epoch: .first, seqno: .zero), history: firstEpochHistory)))
        harness.loop.run()
        #expect(receiver.lag.state == .idle)

        harness.loop.advanceTime(by: .seconds(2))
        #expect(receiver.lag.state == .idle)
        harness.loop.advanceTime(by: .seconds(1))
        #expect(receiver.lag.state == .stalled)

        primary.send(.heartbeat(Heartbeat(lastSeqno: Seqno(50), primaryTime: startOfTime, digest: noDigest)))
        harness.loop.run()
        let lag = receiver.lag
        #expect(lag.state == .catchingUp)
        #expect(lag.received.recordsBehind == 50)
    }

    @Test func receivedRecordsAdvanceThePrimarysPositionAndClockBetweenHeartbeats() {
        let start = Timestamp(microsecondsSinceEpoch: 1_000_000_000_000)
        // A clock that does not move: the primary's clock is what its messages say.
        var tracker = LagTracker(
            stalledAfterTicks: 3, mirrorEnd: .zero, time: nil, clock: ReplicationClock(monotonic: { .zero }, wall: { start }))
        func at(_ seconds: Int64) -> Timestamp { Timestamp(microsecondsSinceEpoch: start.rawValue + seconds * 1_000_000) }
        tracker.welcomed(primaryLastSeqno: Seqno(10))
        tracker.heartbeat(Heartbeat(lastSeqno: Seqno(10), primaryTime: at(0), digest: noDigest))
        tracker.received(through: Seqno(25), time: at(2), bytes: 100)
        tracker.flushed(through: Seqno(25), time: at(2))
        tracker.applied(through: Seqno(20), time: at(1))
        var lag = tracker.lag
        #expect(lag.primaryLastSeqno == Seqno(25) && lag.primaryTime == at(2))
        #expect(lag.received.recordsBehind == 0 && lag.state == .streaming)
        #expect(lag.applied.recordsBehind == 5 && lag.applied.secondsBehind == 1)

        // A heartbeat sent before those records arrived does not move the primary back.
        tracker.heartbeat(Heartbeat(lastSeqno: Seqno(22), primaryTime: at(1), digest: noDigest))
        lag = tracker.lag
        #expect(lag.primaryLastSeqno == Seqno(25) && lag.primaryTime == at(2))
        tracker.heartbeat(Heartbeat(lastSeqno: Seqno(30), primaryTime: at(3), digest: noDigest))
        #expect(tracker.lag.applied.recordsBehind == 10 && tracker.lag.applied.secondsBehind == 2)
    }

    @Test func aStandbyThatLostItsPrimaryShowsLagGrowingWithTheSilenceAndNoCatchUpEstimate() throws {
        let harness = try ReplicationHarness()
        try harness.primary.commit(10)
        try harness.listen()
        let receiver = try harness.makeReceiver()
        receiver.start()
        harness.loop.run()
        receiver.applied(through: harness.primary.lastSeqno, time: startOfTime)
        harness.loop.advanceTime(by: .seconds(1))
        #expect(receiver.lag.applied.secondsBehind == 0 && receiver.lag.isFresh)
        #expect(receiver.progress.catchUpSeconds == 0)

        // The primary's process dies: its connection closes and it never answers again.
        harness.primary.clock.advance(seconds: 2)
        harness.stopListening()
        harness.accepted[0].close(.local("primary killed"))
        harness.loop.run()
        let killedAt = harness.loop.now
        harness.loop.advanceTime(by: .seconds(4))
        var lag = receiver.lag
        #expect(lag.state == .disconnected)
        let silence = (harness.loop.now - killedAt).inSeconds
        #expect(lag.secondsSincePrimaryContact >= silence)
        #expect(lag.applied.secondsBehind == lag.secondsSincePrimaryContact, "caught up when last heard: behind by the silence")
        #expect(lag.received.secondsBehind ?? 0 >= silence)
        #expect(receiver.progress.catchUpSeconds == nil, "no estimate while disconnected")
        harness.loop.advanceTime(by: .seconds(10))
        lag = receiver.lag
        #expect(lag.applied.secondsBehind ?? 0 >= silence + 10)
        #expect(lag.state == .disconnected)
    }

    @Test func aStalledStandbyBehindItsPrimaryShowsTheEstimatedPrimaryClockAdvancing() throws {
        let harness = try ReplicationHarness()
        let (receiver, primary) = try harness.receiverWithScriptedPrimary()
        primary.send(.challenge(HelloProof.makeChallenge()))
        harness.loop.run()  // the hello, whose challenge the welcome signs
        primary.send(.welcome(Welcome(repositoryID: testRepository, position: LogPosition(epoch: .first, seqno: .zero), history: firstEpochHistory)))
        let tenSecondsIn = Timestamp(rawValue: startOfTime.rawValue + 10_000_000)
        primary.send(.heartbeat(Heartbeat(lastSeqno: Seqno(50), primaryTime: tenSecondsIn, digest: noDigest)))
        harness.loop.run()
        receiver.applied(through: Seqno(40), time: startOfTime)
        #expect(receiver.lag.applied.secondsBehind == 10)
        #expect(receiver.lag.state == .catchingUp)

        // Nothing more from the primary: the estimate of its clock runs on with the local clock.
        harness.loop.advanceTime(by: .seconds(3))
        let lag = receiver.lag
        #expect(lag.state == .stalled)
        #expect(lag.applied.secondsBehind == 13)
        #expect(lag.secondsSincePrimaryContact == 3)
        #expect(receiver.progress.catchUpSeconds == nil)
    }

    @Test func thePrimaryMeasuresAStandbysAppliedLagExactlyAsTheStandbyDoes() throws {
        let harness = try ReplicationHarness(rotationBytes: 1 << 20)
        try harness.listen()
        let receiver = try harness.makeReceiver()
        receiver.start()
        harness.loop.run()
        var commitTimes: [Seqno: Timestamp] = [:]
        for _ in 0..<5 {
            let record = try harness.primary.commit(3)
            commitTimes[record.seqno] = record.time
            harness.primary.clock.advance(seconds: 0.25)
            harness.shippers[0].logAdvanced()
            harness.loop.run()
        }
        let seqnos = commitTimes.keys.sorted()
        for applied in seqnos.dropLast() {
            receiver.applied(through: applied, time: commitTimes[applied])
            harness.primary.clock.advance(seconds: 0.5)
            harness.loop.advanceTime(by: .seconds(1))  // a heartbeat each way: the primary's clock, the standby's ack
            let standbySide = try #require(receiver.lag.applied.secondsBehind)
            let status = harness.shippers[0].status
            #expect(status.acked.applied == applied)
            let primarySide = try #require(LagRule.secondsBehind(primaryNow: harness.primary.clock.now, committed: status.appliedTime))
            #expect(primarySide == standbySide, "primary \(primarySide) s, standby \(standbySide) s at seqno \(applied)")
            #expect(primarySide > 0.5)
        }
    }

    @Test func thePrimaryKeepsCommitTimesBoundedAndNeverUnderstatesTheLag() {
        func at(_ seconds: Int64) -> Timestamp { Timestamp(rawValue: startOfTime.rawValue + seconds * 1_000_000) }
        var times = SentCommitTimes(capacity: 4, stride: 2)
        #expect(times.applied(through: Seqno(3)) == nil, "nothing sent: unknown")
        for seqno in 1...10 { times.sent(Seqno(UInt64(seqno)), committed: at(Int64(seqno))) }
        #expect(times.applied(through: Seqno(2)) == at(2))
        #expect(times.applied(through: Seqno(2)) == at(2), "asked again at the same seqno")
        #expect(times.applied(through: Seqno(4)) == at(4))
        // Past the capacity only every second record was kept (6, 8, 10): 7 answers 6's time, older.
        #expect(times.applied(through: Seqno(7)) == at(6))
        #expect(times.applied(through: Seqno(10)) == at(10))
    }
}
