import Tranlog

/// Which position of a standby's acks a synchronous commit waits for (`--synchronous-level`):
/// received (in its memory), flushed (synced to its disk; the default) or applied (visible to its reads).
/// The wire code is the case's position in `allCases`, plus one.
public enum SynchronousLevel: String, Codable, Sendable, CaseIterable {
    case received, flushed, applied

    /// The position of `ack` that this level reports.
    public func position(in ack: Ack) -> Seqno {
        switch self {
        case .received: ack.received
        case .flushed: ack.flushed
        case .applied: ack.applied
        }
    }

    var wireCode: UInt8 { UInt8(Self.allCases.firstIndex(of: self)! + 1) }

    init?(wireCode: UInt8) {
        guard wireCode >= 1, Int(wireCode) <= Self.allCases.count else { return nil }
        self = Self.allCases[Int(wireCode) - 1]
    }
}

/// What a synchronous primary tells one standby in every heartbeat: whether the standby's ack is
/// required for every commit the primary acknowledges (it is one of no more standbys than the
/// primary waits for), at which level, since when, and whether the primary may fall back to
/// asynchronous acknowledgements. A standby that was told it is required and then loses its
/// primary can report the loss of a promotion exactly: nothing acknowledged is missing.
///
/// `notice` numbers the standings a primary sent to one standby; the standby echoes the newest it
/// heard in its acks. The primary keeps treating a standby as required until the standby echoed a
/// notice saying it no longer is, so what the standby believes is never less than what the primary
/// does (see docs/DECISIONS.md, "Exact loss at promote").
public struct SynchronousStanding: Hashable, Sendable {
    public var notice: UInt32
    /// Nil: this standby's ack is not required (asynchronous, or one of more standbys than needed).
    public var required: Required?

    public struct Required: Hashable, Sendable {
        public var level: SynchronousLevel
        /// Since when, without interruption, this standby's ack was required (primary clock).
        public var since: Timestamp
        /// After this long with too few standbys the primary acknowledges commits without them; nil:
        /// it waits as long as it takes, so a required standby lacks no acknowledged commit.
        public var fallbackAfter: Duration?

        public init(level: SynchronousLevel, since: Timestamp, fallbackAfter: Duration?) {
            self.level = level
            self.since = since
            self.fallbackAfter = fallbackAfter
        }
    }

    public init(notice: UInt32, required: Required?) {
        self.notice = notice
        self.required = required
    }

    /// What an asynchronous primary sends, and what a standby believes before its first heartbeat.
    public static let notRequired = SynchronousStanding(notice: 0, required: nil)
}
