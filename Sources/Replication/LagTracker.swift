import Tranlog

/// The one lag rule, on both ends of a connection: a stage's seconds behind are the primary's clock
/// now minus the commit time of the last record that stage holds, and 0 only when it is known to
/// hold the primary's last record. The standby estimates the primary's clock from its heartbeats; the
/// primary reads its own.
public enum LagRule {
    /// Nil when the commit time of the stage's last record is unknown.
    public static func secondsBehind(primaryNow: Timestamp, committed: Timestamp?) -> Double? {
        committed.map { max(0, Double(primaryNow.rawValue - $0.rawValue) / 1_000_000) }
    }
}

/// How far a standby trails its primary, per stage, measured against the position and clock the
/// primary sends in heartbeats (`LagRule`): an idle, caught-up standby shows 0; a stalled or
/// disconnected one shows lag growing with the time since it last heard from the primary.
public struct ReplicationLag: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        /// Caught up, and records arrived within the last heartbeat interval or two.
        case streaming
        /// Records are known to exist that have not been received yet.
        case catchingUp = "catching-up"
        /// Caught up and nothing new.
        case idle
        /// Connected, but nothing heard from the primary for several heartbeat intervals.
        case stalled
        case disconnected
    }

    public struct Stage: Sendable, Equatable {
        public var seqno: Seqno
        /// Primary's last seqno − this stage's seqno.
        public var recordsBehind: UInt64
        /// Known only for `flushed` (bytes received and not yet synced).
        public var bytesBehind: UInt64?
        /// The primary's clock now (estimated: its last heartbeat's time + the time since it arrived)
        /// − commit time of this stage's last record. 0 only when the stage holds the primary's last
        /// seqno and the primary was heard within the stall window; a stage that held it when the
        /// primary was last heard is behind by the time since. Nil when no commit time is known.
        public var secondsBehind: Double?
    }

    public var state: State
    public var received: Stage
    public var flushed: Stage
    public var applied: Stage
    /// The primary's last seqno and clock, from its welcome and heartbeats.
    public var primaryLastSeqno: Seqno?
    public var primaryTime: Timestamp?
    /// Seconds since the primary last said anything (since the receiver started, before that).
    public var secondsSincePrimaryContact: Double

    /// Whether the figures are current: connected and heard from within the stall window.
    public var isFresh: Bool { Self.isFresh(state) }

    static func isFresh(_ state: State) -> Bool { state != .disconnected && state != .stalled }
}

/// Keeps the inputs of `ReplicationLag`. Stall detection counts ticks of one heartbeat interval,
/// driven by the receiver's timer; seconds behind read the injected clock, so both are deterministic
/// in tests.
struct LagTracker {
    private struct StagePosition {
        var seqno = Seqno.zero
        var time: Timestamp?
    }

    /// Ticks without a message from the primary after which the standby counts as stalled.
    let stalledAfterTicks: Int
    private let clock: ReplicationClock
    /// The primary's clock at a local monotonic instant: from its last heartbeat, moved forward by a
    /// newer record's commit time. Until the first heartbeat, the standby's own wall clock.
    private var primaryClock: PrimaryClockEstimate
    /// When the primary last said anything (monotonic); the receiver's start before that.
    private var lastContact: Duration
    private var connected = false
    private var silentTicks = 0
    private var recordsThisTick = false
    private var recordsLastTick = false
    private var primarySeqno: Seqno?
    private var primaryTime: Timestamp?
    private var received = StagePosition()
    private var flushed = StagePosition()
    private var applied = StagePosition()
    private var unflushedBytes: UInt64 = 0

    /// A tracker for a mirror that already holds records through `seqno` (committed at `time`).
    init(stalledAfterTicks: Int, mirrorEnd seqno: Seqno, time: Timestamp?, clock: ReplicationClock) {
        self.stalledAfterTicks = stalledAfterTicks
        self.clock = clock
        lastContact = clock.monotonic()
        primaryClock = PrimaryClockEstimate(time: clock.wall(), at: lastContact)
        received = StagePosition(seqno: seqno, time: time)
        flushed = received
    }

    mutating func welcomed(primaryLastSeqno: Seqno) {
        connected = true
        silentTicks = 0
        primarySeqno = primaryLastSeqno
    }

    mutating func disconnected() {
        connected = false
    }

    /// Any message from the primary proves it is alive.
    mutating func heardFromPrimary() {
        silentTicks = 0
        lastContact = clock.monotonic()
    }

    mutating func heartbeat(_ heartbeat: Heartbeat) {
        primarySeqno = max(primarySeqno ?? heartbeat.lastSeqno, heartbeat.lastSeqno)
        let time = max(primaryTime ?? heartbeat.primaryTime, heartbeat.primaryTime)
        primaryTime = time
        primaryClock = PrimaryClockEstimate(time: time, at: clock.monotonic())
    }

    mutating func received(through seqno: Seqno, time: Timestamp?, bytes: Int) {
        received = StagePosition(seqno: seqno, time: time)
        // A received record is a lower bound of the primary's position and clock, fresher than the
        // last heartbeat (up to an interval old): without it a standby busy applying would show 0
        // behind until the next heartbeat.
        primarySeqno = max(primarySeqno ?? seqno, seqno)
        if let time {
            primaryTime = max(primaryTime ?? time, time)
            let now = clock.monotonic()
            if time > primaryClock.now(at: now) { primaryClock = PrimaryClockEstimate(time: time, at: now) }
        }
        unflushedBytes += UInt64(bytes)
        recordsThisTick = true
    }

    mutating func flushed(through seqno: Seqno, time: Timestamp?) {
        flushed = StagePosition(seqno: seqno, time: time)
        unflushedBytes = 0
    }

    /// The mirror was opened anew (a torn tail cut): received and flushed are where it ends.
    mutating func mirrorReopened(through seqno: Seqno, time: Timestamp?) {
        received = StagePosition(seqno: seqno, time: time)
        flushed = received
        unflushedBytes = 0
    }

    mutating func applied(through seqno: Seqno, time: Timestamp?) {
        applied = StagePosition(seqno: seqno, time: time)
    }

    /// One heartbeat interval passed.
    mutating func tick() {
        silentTicks += 1
        recordsLastTick = recordsThisTick
        recordsThisTick = false
    }

    var lag: ReplicationLag {
        let now = clock.monotonic()
        let silence = (now - lastContact).inSeconds
        let state = state(receivedBehind: received.seqno.distance(to: primarySeqno ?? received.seqno))
        let fresh = ReplicationLag.isFresh(state)
        func stage(_ position: StagePosition, bytesBehind: UInt64?) -> ReplicationLag.Stage {
            self.stage(position, bytesBehind: bytesBehind, now: now, silence: silence, fresh: fresh)
        }
        return ReplicationLag(
            state: state, received: stage(received, bytesBehind: nil), flushed: stage(flushed, bytesBehind: unflushedBytes),
            applied: stage(applied, bytesBehind: nil), primaryLastSeqno: primarySeqno, primaryTime: primaryTime,
            secondsSincePrimaryContact: silence)
    }

    private func state(receivedBehind: UInt64) -> ReplicationLag.State {
        guard connected else { return .disconnected }
        if silentTicks >= stalledAfterTicks { return .stalled }
        if receivedBehind > 0 { return .catchingUp }
        return recordsThisTick || recordsLastTick ? .streaming : .idle
    }

    /// `LagRule` for one stage. A stage that holds the primary's last known seqno is 0 behind while the
    /// primary is heard from (`fresh`), else behind by the silence: it was complete when last heard.
    private func stage(
        _ position: StagePosition, bytesBehind: UInt64?, now: Duration, silence: Double, fresh: Bool
    ) -> ReplicationLag.Stage {
        let behind = position.seqno.distance(to: primarySeqno ?? position.seqno)
        var seconds: Double?
        if behind == 0, primarySeqno != nil {
            seconds = fresh ? 0 : silence
        } else {
            seconds = LagRule.secondsBehind(primaryNow: primaryClock.now(at: now), committed: position.time)
        }
        return ReplicationLag.Stage(seqno: position.seqno, recordsBehind: behind, bytesBehind: bytesBehind, secondsBehind: seconds)
    }
}
