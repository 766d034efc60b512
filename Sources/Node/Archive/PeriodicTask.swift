import Dispatch
import Transport

/// Runs a pass on its own serial queue at start and then every `interval` until `stop()`: the
/// archiver and the warm standby poll directories this way, off the loop and the commit path. Other
/// work (a promote) can run on the same queue between passes with `sync`, so it never races a pass.
final class PeriodicTask: Sendable {
    private let queue: DispatchQueue
    private let interval: DispatchTimeInterval
    private let stopped = Locked(false)

    init(label: String, interval: Duration) {
        queue = DispatchQueue(label: label)
        let parts = interval.components
        self.interval = .nanoseconds(Int(parts.seconds) * 1_000_000_000 + Int(parts.attoseconds / 1_000_000_000))
    }

    /// Runs `pass` now and then every interval.
    func start(_ pass: @escaping @Sendable () -> Void) {
        queue.async { self.tick(pass) }
    }

    /// No pass starts after this returns; a running one is waited for.
    func stop() {
        stopped.withLock { $0 = true }
        queue.sync {}
    }

    /// Runs `work` on the queue, between passes.
    func sync<Value>(_ work: () -> Value) -> Value {
        queue.sync(execute: work)
    }

    private func tick(_ pass: @escaping @Sendable () -> Void) {
        guard !stopped.withLock({ $0 }) else { return }
        pass()
        queue.asyncAfter(deadline: .now() + interval) { self.tick(pass) }
    }
}
