import Tranlog

/// The clocks a standby's replication reads: a monotonic one for intervals (how long since the
/// primary was last heard, rate limits) and the wall clock, which stands in for the primary's until
/// its first heartbeat. Injected so tests on the fake loop are deterministic.
public struct ReplicationClock: Sendable {
    public var monotonic: @Sendable () -> Duration
    public var wall: @Sendable () -> Timestamp

    public init(monotonic: @escaping @Sendable () -> Duration, wall: @escaping @Sendable () -> Timestamp) {
        self.monotonic = monotonic
        self.wall = wall
    }

    public static let system: ReplicationClock = {
        let origin = ContinuousClock.now
        return ReplicationClock(monotonic: { origin.duration(to: .now) }, wall: { Timestamp.now() })
    }()
}

extension Duration {
    /// Whole microseconds, as `Timestamp`s count them.
    public var microseconds: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }
}

/// The primary's clock as a standby estimates it: a reading of it (a heartbeat's time, or a newer
/// record's commit time) at a local monotonic instant, moved forward by the time passed since.
/// Re-anchored at every reading, so the local clock's drift never accumulates.
public struct PrimaryClockEstimate: Sendable {
    public var time: Timestamp
    public var at: Duration

    public init(time: Timestamp, at: Duration) {
        self.time = time
        self.at = at
    }

    /// The primary's clock at the local monotonic instant `now`.
    public func now(at now: Duration) -> Timestamp {
        Timestamp(rawValue: time.rawValue + (now - at).microseconds)
    }
}
