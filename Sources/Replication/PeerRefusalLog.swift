import Logging
import Transport

/// What a primary's replication port refuses (a wrong key, garbage, a peer silent past the handshake
/// timeout, a connection dropped for the pending limit), logged at most once per peer host and kind
/// of refusal per interval, with a count (`PeerMessageLimiter`, `RepeatedMessageLimiter`'s rule, the standby's too): a peer
/// that reconnects in a loop, or opens hundreds of connections, cannot flood the log. Loop-confined,
/// shared by every connection of one port.
public final class PeerRefusalLog {
    private let limiter: PeerMessageLimiter

    public init(interval: Duration = .seconds(60), clock: ReplicationClock = .system) {
        limiter = PeerMessageLimiter(interval: interval, now: clock.monotonic)
    }

    /// Logs `message` at warning level unless a refusal of `kind` from `peer`'s host was logged within the interval.
    public func warn(_ message: String, kind: String, peer: SocketAddress, logger: Logger) {
        if let line = limiter.line(for: message, kind: kind, peer: peer) { logger.warning("\(line)") }
    }
}
