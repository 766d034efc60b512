import Tranlog

/// How far a standby trails its primary, per stage, measured against the position and clock the
/// primary sends in heartbeats: an idle, caught-up standby shows 0, a stalled one growing lag.
public struct ReplicationLag: Sendable, Equatable {
    public enum State: String, Sendable {
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
        /// Primary's clock in its last heartbeat − commit time of this stage's last record; 0 when
        /// caught up; nil when neither is known yet.
        public var secondsBehind: Double?
    }

    public var state: State
    public var received: Stage
    public var flushed: Stage
    public var applied: Stage
    /// The primary's last seqno and clock, from its welcome and heartbeats.
    public var primaryLastSeqno: Seqno?
    public var primaryTime: Timestamp?
}

/// Keeps the inputs of `ReplicationLag`. Time passes in ticks of one heartbeat interval, driven by the
/// receiver's timer, so stall detection needs no clock of its own and is deterministic in tests.
struct LagTracker {
    private struct StagePosition {
        var seqno = Seqno.zero
        var time: Timestamp?
    }

    /// Ticks without a message from the primary after which the standby counts as stalled.
    let stalledAfterTicks: Int
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
    init(stalledAfterTicks: Int, mirrorEnd seqno: Seqno, time: Timestamp?) {
        self.stalledAfterTicks = stalledAfterTicks
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
    }

    mutating func heartbeat(_ heartbeat: Heartbeat) {
        primarySeqno = max(primarySeqno ?? heartbeat.lastSeqno, heartbeat.lastSeqno)
        primaryTime = max(primaryTime ?? heartbeat.primaryTime, heartbeat.primaryTime)
    }

    mutating func received(through seqno: Seqno, time: Timestamp?, bytes: Int) {
        received = StagePosition(seqno: seqno, time: time)
        // A received record is a lower bound of the primary's position and clock, fresher than the
        // last heartbeat (up to an interval old): without it a standby busy applying would show 0
        // behind until the next heartbeat.
        primarySeqno = max(primarySeqno ?? seqno, seqno)
        if let time { primaryTime = max(primaryTime ?? time, time) }
        unflushedBytes += UInt64(bytes)
        recordsThisTick = true
    }

    mutating func flushed(through seqno: Seqno, time: Timestamp?) {
        flushed = StagePosition(seqno: seqno, time: time)
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
        let receivedStage = stage(received, bytesBehind: nil)
        return ReplicationLag(
            state: state(receivedBehind: receivedStage.recordsBehind), received: receivedStage,
            flushed: stage(flushed, bytesBehind: unflushedBytes), applied: stage(applied, bytesBehind: nil),
            primaryLastSeqno: primarySeqno, primaryTime: primaryTime)
    }

    private func state(receivedBehind: UInt64) -> ReplicationLag.State {
        guard connected else { return .disconnected }
        if silentTicks >= stalledAfterTicks { return .stalled }
        if receivedBehind > 0 { return .catchingUp }
        return recordsThisTick || recordsLastTick ? .streaming : .idle
    }

    private func stage(_ position: StagePosition, bytesBehind: UInt64?) -> ReplicationLag.Stage {
        let behind = position.seqno.distance(to: primarySeqno ?? position.seqno)
        var seconds: Double?
        if behind == 0 {
            seconds = 0
        } else if let primaryTime, let time = position.time {
            seconds = max(0, Double(primaryTime.rawValue - time.rawValue) / 1_000_000)
        }
        return ReplicationLag.Stage(seqno: position.seqno, recordsBehind: behind, bytesBehind: bytesBehind, secondsBehind: seconds)
    }
}
