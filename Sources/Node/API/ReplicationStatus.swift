import Replication
import Repository
import Tranlog

/// One connected standby as its primary sees it (`standbys` in a primary's `GET /status`, like
/// PostgreSQL's pg_stat_replication).
public struct StandbyConnectionStatus: Codable, Sendable {
    public var peer: String
    /// `handshaking`, `streaming` or `closed: reason`.
    public var state: String
    /// The standby's node name, once its hello arrived.
    public var standby: SourceID?
    public var rejection: String?
    public var sentSeqno: Seqno
    public var receivedSeqno: Seqno
    public var flushedSeqno: Seqno
    public var appliedSeqno: Seqno
    public var lastAckTime: Timestamp?
    /// The commit time of the standby's last applied record (`lagSeconds` is the primary's clock minus it).
    public var appliedTime: Timestamp?
    public var unflushedBytes: UInt64
    public var compressionRatio: Double
    /// Records and seconds the standby's applied position is behind, by the standby's own rule
    /// (`LagRule`; see `StandbyRetention`).
    public var lagRecords: UInt64?
    public var lagSeconds: Double?
    /// Tranlog kept for it: the file it needs, and the bytes from that file to the end.
    public var neededFileID: FileID?
    public var retainedBytes: UInt64?
    /// When it was last heard from (`disconnected` rows), and whether the file it needs is gone.
    public var lastSeen: Timestamp?
    public var logsRemoved: Bool?
    /// Not heard from for longer than `--standby-slot-expiry`: its tranlogs are no longer kept.
    public var slotExpired: Bool?

    init(_ status: ShipperStatus) {
        peer = "\(status.peer)"
        switch status.state {
        case .handshaking: state = "handshaking"
        case .streaming: state = "streaming"
        case .sendingBaseCopy: state = "sendingBaseCopy"
        case .closed(let reason): state = "closed: \(reason)"
        }
        standby = status.standby
        rejection = status.rejection?.description
        sentSeqno = status.sentSeqno
        receivedSeqno = status.acked.received
        flushedSeqno = status.acked.flushed
        appliedSeqno = status.acked.applied
        lastAckTime = status.lastAckTime
        appliedTime = status.appliedTime
        unflushedBytes = status.unflushedBytes
        compressionRatio = status.compressionRatio
    }

    /// A known standby that is not connected.
    init(disconnected known: KnownStandby) {
        peer = known.address
        state = "disconnected"
        standby = SourceID(known.nodeID)
        sentSeqno = known.flushedSeqno
        receivedSeqno = known.flushedSeqno
        flushedSeqno = known.flushedSeqno
        appliedSeqno = known.appliedSeqno
        unflushedBytes = 0
        compressionRatio = 1
        lastSeen = known.lastSeen
    }
}

/// A standby's view of its replication (`replication` in a standby's `GET /status`).
public struct StandbyReplicationStatus: Codable, Sendable {
    public struct Stage: Codable, Sendable {
        public var seqno: Seqno
        public var recordsBehind: UInt64
        public var bytesBehind: UInt64?
        public var secondsBehind: Double?
    }

    /// The receiver's connection state (`streaming`, `waitingToReconnect`, `failed: …`).
    public var receiver: String
    /// The lag state: `streaming`, `catching-up`, `idle`, `stalled` or `disconnected`; `offline`
    /// while taken offline (then `offline` says why and since when).
    public var state: String
    public var primary: String
    /// Why the primary last refused this standby (e.g. a wrong key), until it is accepted again.
    public var lastRejection: String?
    /// Why connections keep failing in a way someone must fix (the primary's refusal, a refused
    /// stream, a `--primary` that is no replication port), since when and how many times in a row;
    /// until a connection carries the stream again.
    public var refusal: RefusalStatus?
    public var received: Stage
    public var flushed: Stage
    public var applied: Stage
    /// The primary's last seqno and clock, from its last heartbeat or the last record received, whichever is newer.
    public var primaryLastSeqno: Seqno?
    public var primaryTime: Timestamp?
    /// Seconds since the primary last said anything (since the standby started, before that): it
    /// grows while the standby is disconnected or stalled. Optional so a client reads an older node.
    public var secondsSincePrimaryContact: Double?
    /// Set while the standby is offline (`understudy standby offline`, or a fault).
    public var offline: StandbyOffline?
    /// A pending `offline --at-seqno`: applying stops at this seqno, then the standby goes offline.
    public var offlineAtSeqno: Seqno?
    /// Set while applying is paused (`understudy standby pause`).
    public var paused: StandbyPause?
    /// Set on a standby started with `--apply-delay`.
    public var delay: ApplyDelayStatus?
    /// Apply rate over the last 10 s and the catch-up estimate. Optional so a client still reads a node that
    /// does not report it.
    public var apply: ApplyRateStatus?
    /// The applied stage's lag, one sample per second for the last minute, oldest first.
    public var lagHistory: [LagSampleStatus]?
    /// Records synced to the mirror and not applied yet, both positions read at one moment, the synced
    /// end first (PostgreSQL's `pg_last_wal_receive_lsn()` against `pg_last_wal_replay_lsn()`).
    /// Optional so a client reads an older node.
    public var applyBacklog: ApplyBacklogStatus?
    /// Set while the primary says this standby's ack is required for every commit it acknowledges:
    /// a promotion then reports the loss exactly (`PromoteReport.exactLoss`) unless `fallbackAfterSeconds`.
    public var synchronous: SynchronousStandingStatus?

    init(receiver: LogReceiver, primary: String) {
        let lag = receiver.lag
        self.receiver = "\(receiver.state)"
        state = lag.state.rawValue
        self.primary = primary
        lastRejection = receiver.lastRejection?.description
        refusal = receiver.refusal.map { RefusalStatus(message: $0.message, since: $0.since, count: $0.count) }
        received = Stage(lag.received)
        flushed = Stage(lag.flushed)
        applied = Stage(lag.applied)
        primaryLastSeqno = lag.primaryLastSeqno
        primaryTime = lag.primaryTime
        secondsSincePrimaryContact = lag.secondsSincePrimaryContact
        let progress = receiver.progress
        apply = ApplyRateStatus(progress)
        lagHistory = progress.history.map(LagSampleStatus.init)
        synchronous = receiver.standing.required.map(SynchronousStandingStatus.init)
    }
}

/// `replication.applyBacklog` in a standby's `GET /status`: what the mirror writer has synced and
/// the repository has not applied yet, as of `readAt`. A flushed stage ahead of the applied one
/// in the same status is not this: the two stages are the loop's, each a hand-off behind.
public struct ApplyBacklogStatus: Codable, Sendable, Equatable {
    public var syncedSeqno: Seqno
    public var appliedSeqno: Seqno
    /// `syncedSeqno` − `appliedSeqno`.
    public var records: UInt64
    /// The commit time of the applied record (the primary's clock); nil before any record.
    public var appliedTime: Timestamp?
    /// This node's clock when the two were read: `readAt` − `appliedTime` is how old the applied
    /// record was then.
    public var readAt: Timestamp

    init(synced: Seqno, applied: AppliedPosition, readAt: Timestamp) {
        syncedSeqno = synced
        appliedSeqno = applied.seqno
        records = applied.seqno.distance(to: synced)
        appliedTime = applied.time
        self.readAt = readAt
    }
}

/// `replication.synchronous` in a standby's `GET /status`.
public struct SynchronousStandingStatus: Codable, Sendable, Equatable {
    public var level: SynchronousLevel
    /// Since when without interruption (the primary's clock), RFC 3339.
    public var since: String
    /// The primary acknowledges commits without its standbys after this long without enough of them; nil: never.
    public var fallbackAfterSeconds: Double?

    init(_ required: SynchronousStanding.Required) {
        level = required.level
        since = required.since.iso8601
        fallbackAfterSeconds = required.fallbackAfter.map { $0 / .seconds(1) }
    }
}

/// `replication.refusal` in a standby's `GET /status`.
public struct RefusalStatus: Codable, Sendable, Equatable {
    public var message: String
    public var since: Timestamp
    public var count: Int
}

extension StandbyReplicationStatus.Stage {
    init(_ stage: ReplicationLag.Stage) {
        self.init(seqno: stage.seqno, recordsBehind: stage.recordsBehind, bytesBehind: stage.bytesBehind, secondsBehind: stage.secondsBehind)
    }
}

/// `POST /admin/promote` and `understudy promote --json`.
public struct PromoteReport: Codable, Sendable {
    /// False when the node was not a standby (already promoted, or always a primary): nothing was done.
    public var promoted: Bool
    public var applied: AppliedPosition
    public var epoch: Epoch
    /// The primary's last seqno as last known (its last heartbeat or the last record received, whichever
    /// is newer), nil if never heard; `lostRecords` is how many of its records this node never applied
    /// (a crash of the primary loses them for good): a lower bound, commits made after that are not counted.
    public var primaryLastSeqno: Seqno?
    public var lostRecords: UInt64?
    /// Milliseconds spent stopping the receiver, applying what was flushed, and opening the epoch.
    public var milliseconds: Phases?
    public var message: String
    /// Set when the loss is known exactly: this standby was required for every commit its primary
    /// acknowledged (synchronous, no fallback) when it last heard from it, and holds all it acknowledged.
    public var exactLoss: ExactLoss? = nil
    /// Set when a paused standby was promoted at its pause target: the flushed records after the
    /// applied position, set aside (never deleted) as a point-in-time restore does.
    public var discarded: Discarded? = nil

    public struct Discarded: Codable, Sendable {
        public var fromSeqno: Seqno
        public var throughSeqno: Seqno
        public var records: UInt64
        /// Where the tranlogs holding them were moved.
        public var setAside: [String]
    }

    public struct ExactLoss: Codable, Sendable {
        public var acknowledgedCommitsLost: UInt64
        public var level: SynchronousLevel
        /// Since when the standby's ack was required without interruption (primary clock), RFC 3339.
        public var synchronousSince: String
    }

    /// Milliseconds the promote spent in each step inside the node, in order.
    public struct Phases: Codable, Sendable {
        /// Waiting for the apply step under way when the promote came (long while catching up).
        /// Absent from a node of an earlier version, as is `stopStandby`.
        public var waitForApply: Double?
        public var stopReceiver: Double
        public var applyFlushed: Double
        public var commitRestore: Double
        /// After the commit point, before the answer, on a standby with a replication port of its own:
        /// the switch to serving standbys, and the replica's receiver and apply queue shut. Absent
        /// on one without.
        public var stopStandby: Double?

        /// From the promote's arrival at the standby to its answer.
        public var total: Double { (waitForApply ?? 0) + stopReceiver + applyFlushed + commitRestore + (stopStandby ?? 0) }
    }
}
