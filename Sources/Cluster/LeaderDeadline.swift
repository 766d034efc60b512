import Transport

/// The leader's proof that it still holds the lease, on its own monotonic clock: the instant a
/// keepalive (or the grant) was sent, plus the TTL, minus a safety margin. etcd keeps the lease at
/// least TTL after receiving that request, which is after it was sent, so until the deadline no other
/// node can hold the lease. Commits are held (`commitHold`) from the deadline on.
public final class LeaderDeadline: Sendable {
    private let deadline = Locked<ContinuousClock.Instant?>(nil)
    private let why = Locked("not the cluster's leader")

    public init() {}

    /// A lease granted or renewed by a request sent at `sent`.
    func renewed(sentAt sent: ContinuousClock.Instant, ttl: Duration, margin: Duration) {
        deadline.withLock { $0 = sent + ttl - margin }
    }

    /// No lease held any more (lost, or leadership given up): commits are held at once.
    func revoke(_ reason: String) {
        why.withLock { $0 = reason }
        deadline.withLock { $0 = nil }
    }

    /// Nil while the lease is proven; else why commits are held. Cheap: asked at every commit.
    public func holdReason(now: ContinuousClock.Instant = .now) -> String? {
        guard let deadline = deadline.withLock({ $0 }) else { return why.withLock { $0 } }
        if now < deadline { return nil }
        return "this node can no longer prove it holds the cluster's leader lease (its last renewal was more than the TTL "
            + "less a safety margin ago): commits are held until it renews the lease or another node takes over"
    }

    var isHeld: Bool { holdReason() == nil }
}
