/// Wakes a loop from any thread to run `onWake`, coalescing: however many `wake()` calls arrive before
/// the loop gets to it, `onWake` runs once. For producers on other threads (the tranlog writer) that
/// signal "there is more" far more often than the loop needs to hear it.
public final class LoopWaker: Sendable {
    private let loop: any EventLoop
    private let onWake: @Sendable () -> Void
    private let pending = Locked(false)

    /// `onWake` runs on the loop thread.
    public init(loop: any EventLoop, onWake: @escaping @Sendable () -> Void) {
        self.loop = loop
        self.onWake = onWake
    }

    public func wake() {
        let alreadyPending = pending.withLock { pending in
            defer { pending = true }
            return pending
        }
        if alreadyPending { return }
        loop.execute { [self] in
            // Clear before running, so a wake() during onWake schedules another run.
            pending.withLock { $0 = false }
            onWake()
        }
    }
}
