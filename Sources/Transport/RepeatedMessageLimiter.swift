/// A message that comes back on every retry (a refusal, a wrong peer) is logged once, then at most
/// once per `interval` with how many times it came back meanwhile; a different message is logged at
/// once. Messages are told apart by their `kind` when given (details that vary, such as a peer's
/// garbage, then do not make every line news), else by their text. Time is the caller's (a
/// monotonic clock), so tests need not wait.
public struct RepeatedMessageLimiter: Sendable {
    public let interval: Duration
    private var last: (kind: String, loggedAt: Duration, repeats: Int)?

    public init(interval: Duration = .seconds(60)) {
        self.interval = interval
    }

    /// The line to log now, or nil to stay quiet.
    public mutating func line(for message: String, kind: String? = nil, now: Duration) -> String? {
        let kind = kind ?? message
        guard let last, last.kind == kind else {
            self.last = (kind, now, 0)
            return message
        }
        guard now - last.loggedAt >= interval else {
            self.last?.repeats += 1
            return nil
        }
        self.last = (kind, now, 0)
        return "\(message) (again; \(last.repeats + 1) time(s) since it was last logged)"
    }

    /// The condition ended (accepted at last): the next occurrence is news again.
    public mutating func reset() {
        last = nil
    }
}

/// `RepeatedMessageLimiter`'s rule per peer host and kind of message, for a port any host can reach:
/// a peer that reconnects in a loop, or opens hundreds of connections, cannot flood the log. Used by
/// the replication port's refusals and by TLS handshake failures. Loop-confined.
public final class PeerMessageLimiter {
    /// Hosts and kinds remembered at most; past it everything is forgotten at once, which only makes
    /// the next messages news again (a bounded map, whatever the number of peers).
    public static let maxEntries = 1024
    private let interval: Duration
    private let now: @Sendable () -> Duration
    private var limiters: [String: RepeatedMessageLimiter] = [:]

    /// `now` is a monotonic clock.
    public init(interval: Duration = .seconds(60), now: @escaping @Sendable () -> Duration) {
        self.interval = interval
        self.now = now
    }

    /// The line to log now, or nil unless a message of `kind` from `peer`'s host was logged within the interval.
    public func line(for message: String, kind: String, peer: SocketAddress) -> String? {
        let key = "\(peer.host) \(kind)"
        if limiters[key] == nil && limiters.count >= Self.maxEntries { limiters.removeAll() }
        var limiter = limiters[key] ?? RepeatedMessageLimiter(interval: interval)
        let line = limiter.line(for: message, kind: kind, now: now())
        limiters[key] = limiter
        return line
    }
}
