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
    /// Seconds as a Double, for rates and lags in status.
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
