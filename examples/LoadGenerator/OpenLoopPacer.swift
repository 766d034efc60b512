import Foundation
import Tranlog
import Transport

/// Open loop: releases requests at Poisson-distributed instants, `rate` per second on average, the
/// schedule PostgreSQL's `pgbench --rate` gives its transactions, each on time to within the
/// kernel's timer slack. libuv's timers count whole milliseconds: a timer tick released the
/// requests in bursts a millisecond apart, so a standby received bursts where PostgreSQL's got a
/// steady stream at the same rate. A thread of its own sleeps until each instant and posts the
/// release to the loop; a pacer that falls behind releases what is due at once.
final class OpenLoopPacer: Sendable {
    private let rate: Double
    private let stopped = Locked(false)

    init(rate: Double) {
        self.rate = rate
    }

    /// Starts releasing from `origin`; `release` gets each request's scheduled instant, on the pacer's thread.
    func start(from origin: ContinuousClock.Instant, release: @escaping @Sendable (ContinuousClock.Instant) -> Void) {
        Thread.start(named: "load-pacer") { [self] in
            var due = origin
            while !stopped.withLock({ $0 }) {
                due += nextGap()
                let wait = due - .now
                if wait > .zero { Self.sleep(wait) }
                release(due)
            }
        }
    }

    func stop() {
        stopped.withLock { $0 = true }
    }

    /// An exponentially distributed gap with mean 1 / rate.
    private func nextGap() -> Duration {
        .seconds(-log(Double.random(in: Double.leastNormalMagnitude..<1)) / rate)
    }

    private static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var remaining = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var left = timespec()
        while nanosleep(&remaining, &left) == -1 && errno == EINTR { remaining = left }
    }
}
