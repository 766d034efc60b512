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

extension Duration {
    /// Seconds as a Double, for rates and lags in status.
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
