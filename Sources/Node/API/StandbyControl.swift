import Repository
import Tranlog

/// Why and since when a standby is offline (`replication.offline` in `GET /status`, and what
/// `DATA/standby.json` keeps across restarts).
public struct StandbyOffline: Codable, Sendable, Equatable {
    public enum Reason: String, Codable, Sendable {
        /// `understudy standby offline` (or its `--at-seqno` was reached).
        case requested
        /// Replication could not go on by itself: see `fault`.
        case fault
    }

    public var reason: Reason
    /// What happened, for people: "taken offline by request", "reached seqno 120 (--at-seqno)", the fault.
    public var detail: String
    public var since: Timestamp
    /// The seqno applied when the standby went offline: a restart (even after kill -9) applies the
    /// mirror back up to it, and no further.
    public var appliedSeqno: Seqno
    public var fault: StandbyFault?
}

/// What stopped a standby by itself, and what clears it (docs/OPERATIONS.md, "Take a standby offline / online").
public struct StandbyFault: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Writing or syncing the mirror failed. Cleared once the disk takes writes again: `online`
        /// (or a restart) reopens the mirror.
        case mirrorWrite
        /// Applying a mirrored record failed (damaged, forked, a gap). `online` applies again: cleared when that succeeds.
        case apply
        /// The primary refused the standby (fork, another repository, logs removed). Only the operator
        /// can tell it is fixed: `online --force`, or a fresh copy put in place of the data directory.
        case rejected
        /// The standby's content digest differed from the primary's at the same seqno (heartbeats
        /// carry it). Nothing more is applied; only a new seed fixes it (`online --force` resumes
        /// applying, and the next heartbeat at a common seqno checks again).
        case diverged
    }

    public var kind: Kind
    public var message: String
}

/// `POST /admin/standby/offline`. Without a field: apply everything flushed, then go offline.
public struct StandbyOfflineRequest: Codable, Sendable {
    /// Keep streaming and applying until applied is exactly this seqno, then go offline.
    public var atSeqno: Seqno?
    /// Go offline now: an apply already running completes (it is atomic), nothing more is applied.
    public var immediate: Bool?

    public init(atSeqno: Seqno? = nil, immediate: Bool? = nil) {
        self.atSeqno = atSeqno
        self.immediate = immediate
    }
}

/// `POST /admin/standby/online`.
public struct StandbyOnlineRequest: Codable, Sendable {
    /// Clear a fault only the operator can judge (a refusal by the primary) and try again.
    public var force: Bool?

    public init(force: Bool? = nil) { self.force = force }
}

/// The answer of the offline, online, pause and resume routes and of `understudy standby
/// offline|online|pause|resume --json`.
public struct StandbyModeReport: Codable, Sendable {
    /// `online`, `offline`, or `going-offline` (an `--at-seqno` not reached yet).
    public var state: String
    public var applied: AppliedPosition
    public var flushedSeqno: Seqno
    public var offline: StandbyOffline?
    public var offlineAtSeqno: Seqno?
    /// Set while applying is paused (`understudy standby pause`); receiving and flushing go on.
    public var paused: StandbyPause?
    public var message: String
}

/// A paused apply (`replication.paused` in `GET /status`, and what `DATA/standby.json` keeps across
/// restarts). Receiving and flushing go on; only applying stops, at once or at a target.
public struct StandbyPause: Codable, Sendable, Equatable {
    public var since: Timestamp
    /// Apply through this seqno, then stop.
    public var untilSeqno: Seqno?
    /// Apply every record whose primary commit time is at or before this instant, then stop.
    public var untilTime: Timestamp?
    /// The target was reached (or there is none): nothing more is applied until `standby resume`.
    /// A promote then opens the new epoch at the applied position and sets the later records aside.
    public var reachedTarget: Bool
    /// The seqno applied when applying stopped (when paused, or when the target was reached): a
    /// restart (even after kill -9) applies the mirror back up to it. In status: the seqno applied now.
    public var appliedSeqno: Seqno

    /// Whether applying stops for good here (no target, or the target reached), rather than at a target ahead.
    public var isStopped: Bool { reachedTarget || (untilSeqno == nil && untilTime == nil) }
}

/// `POST /admin/standby/pause`. Without a field: stop applying now (after the batch in progress).
public struct StandbyPauseRequest: Codable, Sendable {
    public var untilSeqno: Seqno?
    /// RFC 3339, e.g. `2026-11-22T03:12:58Z`.
    public var untilTime: String?

    public init(untilSeqno: Seqno? = nil, untilTime: String? = nil) {
        self.untilSeqno = untilSeqno
        self.untilTime = untilTime
    }
}

/// `replication.delay` in a standby's `GET /status` (`standby run --apply-delay`).
public struct ApplyDelayStatus: Codable, Sendable, Equatable {
    public var seconds: Double
    /// The primary's clock minus the delay: records committed at or before it may be applied now.
    public var horizon: Timestamp
    /// Flushed records not applied yet (held by the delay or a pause), and their seqnos.
    public var heldRecords: UInt64
    public var heldFromSeqno: Seqno?
    public var heldThroughSeqno: Seqno?
    /// Frame bytes of held records kept in memory (at most `heldBytesLimit`); the rest is read back
    /// from the mirror when its time comes.
    public var heldBytesInMemory: Int
    public var heldBytesLimit: Int
}
