import Dispatch
import Transport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGTERM and SIGINT caught for a graceful stop, instead of their default handlers, which end the
/// process at once (no final checkpoint, no shutdown record). Create it before announcing readiness,
/// so a signal sent right after the announcement is never lost.
public final class TerminationSignals {
    private let sources: [any DispatchSourceSignal]
    private let received = Locked<Int32?>(nil)

    public init(_ numbers: [Int32] = [SIGTERM, SIGINT]) {
        sources = numbers.map { [received] number in
            // Dispatch sees the signal only once the default action no longer ends the process.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { received.withLockNotifying { $0 = $0 ?? number } }
            source.resume()
            return source
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }

    /// Waits at most `timeout` for one of the signals: its number, or nil if none arrived (a paced
    /// loop that must still stop at once on Ctrl-C, like `status --watch`).
    public func wait(timeout: Duration) -> Int32? {
        _ = received.wait(timeout: timeout, until: { $0 != nil })
        return received.withLock { $0 }
    }

    /// Blocks until one of the signals arrives; returns its number.
    public func wait() -> Int32 {
        while !received.wait(timeout: .seconds(3600), until: { $0 != nil }) {}
        return received.withLock { $0! }
    }
}
