import Foundation

/// Runs the writer's completions on a thread of their own, in the order they were handed over, so
/// the flush thread starts the next batch's write and `fdatasync` while the previous batch's
/// callers are still being told (replies encoded, state published, waiters woken).
final class CompletionQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private let done = DispatchSemaphore(value: 0)

    // Guarded by `condition`.
    private var queued: [() -> Void] = []
    private var closing = false

    init() {
        // Like the flush thread, it holds the queue until `close()` ends its loop.
        Thread.start(named: "tranlog-done") { self.run() }
    }

    func hand(_ completions: @escaping () -> Void) {
        condition.locked { queued.append(completions) }
        // Outside the lock, so the thread does not wake only to wait for it (see the flush thread's).
        condition.signal()
    }

    /// Runs everything handed over so far, then stops the thread.
    func close() {
        condition.locked {
            closing = true
            condition.signal()
        }
        done.wait()
    }

    private func run() {
        while let work = next() { work.forEach { $0() } }
        done.signal()
    }

    /// Everything queued; nil once closing with nothing left.
    private func next() -> [() -> Void]? {
        condition.locked {
            while queued.isEmpty && !closing { condition.wait() }
            guard !queued.isEmpty else { return nil }
            defer { queued = [] }
            return queued
        }
    }
}
