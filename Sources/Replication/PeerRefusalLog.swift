import Logging
import Transport

/// What a primary's replication port refuses (a wrong key, garbage, a peer silent past the handshake
/// timeout, a connection dropped for the pending limit), logged at most once per peer host and kind
/// of refusal per interval, with a count (`RepeatedMessageLimiter`'s rule, the standby's too): a peer
/// that reconnects in a loop, or opens hundreds of connections, cannot flood the log. Loop-confined,
/// shared by every connection of one port.
public final class PeerRefusalLog {
    /// Hosts and kinds remembered at most; past it everything is forgotten at once, which only makes
    /// the next refusals news again (a bounded map, whatever the number of peers).
    static let maxEntries = 1024
    private let interval: Duration
    private let clock: ReplicationClock
    private var limiters: [String: RepeatedMessageLimiter] = [:]

    public init(interval: Duration = .seconds(60), clock: ReplicationClock = .system) {
        self.interval = interval
        self.clock = clock
    }

    /// Logs `message` at warning level unless a refusal of `kind` from `peer`'s host was logged within the interval.
    public func warn(_ message: String, kind: String, peer: SocketAddress, logger: Logger) {
        let key = "\(peer.host) \(kind)"
        if limiters[key] == nil && limiters.count >= Self.maxEntries { limiters.removeAll() }
        var limiter = limiters[key] ?? RepeatedMessageLimiter(interval: interval)
        let line = limiter.line(for: message, kind: kind, now: clock.monotonic())
        limiters[key] = limiter
        if let line { logger.warning("\(line)") }
    }
}
