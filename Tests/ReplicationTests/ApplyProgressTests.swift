import Testing
import Tranlog

@testable import Replication

@Suite struct ApplyProgressTests {
    /// The lag a receiver would report with the primary at `primary` and applied at `applied`, one
    /// simulated second per record behind.
    private func lag(primary: UInt64?, applied: UInt64) -> ReplicationLag {
        let behind = primary.map { $0 > applied ? $0 - applied : 0 } ?? 0
        let stage = ReplicationLag.Stage(seqno: Seqno(applied), recordsBehind: behind, bytesBehind: nil, secondsBehind: Double(behind))
        return ReplicationLag(
            state: .catchingUp, received: stage, flushed: stage, applied: stage,
            primaryLastSeqno: primary.map { Seqno($0) }, primaryTime: nil, secondsSincePrimaryContact: 0)
    }

    @Test func ratesCoverTheLastTenSecondsAndTheEtaDividesTheBacklogByTheClosingSpeed() {
        var tracker = ApplyProgressTracker(tickInterval: .seconds(1))
        var applied: UInt64 = 0
        var primary: UInt64 = 1000
        tracker.tick(lag: lag(primary: primary, applied: applied))
        for second in 1...15 {
            // The first 5 s apply 10 records/s, then 50 records/s of 100 bytes; the primary commits 20/s.
            let rate: UInt64 = second <= 5 ? 10 : 50
            tracker.received(through: Seqno(applied + rate), bytes: Int(rate) * 100)
            applied += rate
            tracker.applied(through: Seqno(applied))
            primary += 20
            tracker.tick(lag: lag(primary: primary, applied: applied))
        }
        let progress = tracker.progress(lag: lag(primary: primary, applied: applied))
        #expect(progress.windowSeconds == 10)
        #expect(progress.recordsPerSecond == 50)
        #expect(progress.bytesPerSecond == 5000)
        #expect(progress.primaryRecordsPerSecond == 20)
        // 1300 − 550 = 750 behind, closing at 30 records/s.
        #expect(progress.catchUpSeconds == 25)
    }

    @Test func totalsCountFromWhereTheStandbyStoodAndOnlyGoUp() {
        var tracker = ApplyProgressTracker(tickInterval: .seconds(1), appliedFrom: Seqno(100))
        tracker.received(through: Seqno(110), bytes: 1000)
        tracker.received(through: Seqno(130), bytes: 2000)
        tracker.applied(through: Seqno(110))
        tracker.applied(through: Seqno(105))  // an older report changes nothing
        var totals = tracker.progress(lag: lag(primary: 130, applied: 110)).totals
        #expect(totals == .init(receivedBytes: 3000, appliedBytes: 1000, appliedRecords: 10))
        tracker.applied(through: Seqno(130))
        totals = tracker.progress(lag: lag(primary: 130, applied: 130)).totals
        #expect(totals == .init(receivedBytes: 3000, appliedBytes: 3000, appliedRecords: 30))
    }

    @Test func aStandbyNoFasterThanItsPrimaryIsNotCatchingUpAndACaughtUpOneNeedsNoTime() {
        var tracker = ApplyProgressTracker(tickInterval: .seconds(1))
        for second: UInt64 in 0...3 {
            tracker.applied(through: Seqno(second * 10))
            tracker.tick(lag: lag(primary: 100 + second * 10, applied: second * 10))
        }
        let behind = tracker.progress(lag: lag(primary: 130, applied: 30))
        #expect(behind.recordsPerSecond == 10 && behind.primaryRecordsPerSecond == 10)
        #expect(behind.catchUpSeconds == nil)
        #expect(tracker.progress(lag: lag(primary: 30, applied: 30)).catchUpSeconds == 0)
    }

    /// Streaming at the primary's pace a few records behind (what one heartbeat brings) is keeping
    /// up, not "not catching up": the ETA is the time to apply those records.
    @Test func aStandbyAtThePrimarysPaceWithRecordsInFlightIsKeepingUp() {
        var tracker = ApplyProgressTracker(tickInterval: .seconds(1))
        for second: UInt64 in 0...3 {
            tracker.applied(through: Seqno(second * 500))
            tracker.tick(lag: lag(primary: second * 500 + 2, applied: second * 500))
        }
        let progress = tracker.progress(lag: lag(primary: 1502, applied: 1500))
        #expect(progress.recordsPerSecond == 500 && progress.primaryRecordsPerSecond == 500)
        #expect(progress.catchUpSeconds == 2.0 / 500)
        // The same rates with a backlog of more than a heartbeat's records are not catching up.
        #expect(tracker.progress(lag: lag(primary: 3000, applied: 1500)).catchUpSeconds == nil)
    }

    @Test func beforeTwoTicksThereIsNoRateAndNoEta() {
        var tracker = ApplyProgressTracker(tickInterval: .seconds(1))
        #expect(tracker.progress(lag: lag(primary: 10, applied: 0)).catchUpSeconds == nil)
        tracker.tick(lag: lag(primary: nil, applied: 0))
        let progress = tracker.progress(lag: lag(primary: nil, applied: 0))
        #expect(progress.recordsPerSecond == 0 && progress.windowSeconds == 0 && progress.catchUpSeconds == 0)
        #expect(progress.history == [ApplyProgress.Sample(secondsBehind: 0, recordsBehind: 0)])
    }

    @Test func historyKeepsOneSamplePerSecondForAMinuteWhateverTheTick() {
        var tracker = ApplyProgressTracker(tickInterval: .milliseconds(250))
        for tick: UInt64 in 1...400 {  // 100 s
            tracker.tick(lag: lag(primary: tick, applied: 0))
        }
        let history = tracker.progress(lag: lag(primary: 400, applied: 0)).history
        #expect(history.count == 60)
        // Every fourth tick is sampled: the last one is tick 400, the first of the minute tick 164.
        #expect(history.last?.recordsBehind == 400)
        #expect(history.first?.recordsBehind == 164)
        #expect(zip(history, history.dropFirst()).allSatisfy { $1.recordsBehind - $0.recordsBehind == 4 })

        var slow = ApplyProgressTracker(tickInterval: .seconds(5))
        for tick: UInt64 in 1...20 { slow.tick(lag: lag(primary: tick, applied: 0)) }
        #expect(slow.progress(lag: lag(primary: 20, applied: 0)).history.map(\.recordsBehind) == Array(9...20))
    }

    @Test func aReceiverTicksItsProgressWithItsHeartbeatTimer() throws {
        let harness = try ReplicationHarness()
        try harness.primary.commit(30)
        try harness.listen()
        let receiver = try harness.makeReceiver()
        receiver.start()
        harness.loop.run()
        harness.loop.advanceTime(by: .seconds(1))
        let last = harness.primary.lastSeqno
        receiver.applied(through: last, time: startOfTime)
        harness.loop.advanceTime(by: .seconds(1))
        let progress = receiver.progress
        #expect(progress.windowSeconds == 1)
        #expect(progress.recordsPerSecond == Double(last.rawValue))
        #expect(progress.bytesPerSecond > Double(last.rawValue) * 8, "every record takes more than its header")
        #expect(progress.catchUpSeconds == 0)
        #expect(progress.history.map(\.recordsBehind) == [last.rawValue, 0])
    }

    @Test func bytesCountOnlyTheBatchesAnApplyCovered() {
        var tracker = ApplyProgressTracker(tickInterval: .seconds(1))
        tracker.tick(lag: lag(primary: 30, applied: 0))
        tracker.received(through: Seqno(10), bytes: 1000)
        tracker.received(through: Seqno(20), bytes: 500)
        tracker.received(through: Seqno(30), bytes: 250)
        tracker.applied(through: Seqno(25))  // covers the first two batches only
        tracker.tick(lag: lag(primary: 30, applied: 25))
        #expect(tracker.progress(lag: lag(primary: 30, applied: 25)).bytesPerSecond == 1500)
        tracker.applied(through: Seqno(30))
        tracker.tick(lag: lag(primary: 30, applied: 30))
        #expect(tracker.progress(lag: lag(primary: 30, applied: 30)).bytesPerSecond == 875)
    }
}
