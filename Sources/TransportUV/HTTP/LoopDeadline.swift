import Transport

/// A deadline that moves on every request and seldom passes (a keep-alive connection's idle or request
/// timeout), kept with at most one loop timer. Moving the deadline later leaves the timer armed; when it
/// fires early it arms again for the rest. So a request costs no timer of its own: a connection busy
/// with requests arms about one per timeout period. Loop-confined.
final class LoopDeadline {
    private let eventLoop: any EventLoop
    private let expired: () -> Void
    private var deadline: Duration?
    private var timer: (firesAt: Duration, timer: any LoopTimer)?

    /// `expired` runs on the loop when a deadline passes without being moved or cleared.
    init(eventLoop: any EventLoop, expired: @escaping () -> Void) {
        self.eventLoop = eventLoop
        self.expired = expired
    }

    /// Expires `delay` from now, replacing the deadline set before.
    func set(after delay: Duration) {
        let at = eventLoop.now + delay
        deadline = at
        if let timer, timer.firesAt <= at { return }
        timer?.timer.cancel()
        timer = (at, eventLoop.scheduleTimer(after: delay) { [weak self] in self?.fired() })
    }

    /// No deadline. A timer left armed fires and finds nothing to do.
    func clear() {
        deadline = nil
    }

    /// No deadline and no timer: for an owner that is done (its connection closed). Without it the
    /// armed timer would keep its loop handle until it fires.
    func cancel() {
        deadline = nil
        timer?.timer.cancel()
        timer = nil
    }

    private func fired() {
        timer = nil
        guard let deadline else { return }
        let remaining = deadline - eventLoop.now
        guard remaining <= .zero else { return set(after: remaining) }
        self.deadline = nil
        expired()
    }
}
