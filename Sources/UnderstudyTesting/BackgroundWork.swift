import Foundation

/// Work a test starts on a thread of its own and awaits with a deadline: a test of "this must not
/// wait for that" fails when it would wait, instead of hanging the suite.
public final class BackgroundWork<Value, Failure: Error>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var stored: Result<Value, Failure>?

    /// Starts `body` on a new thread at once.
    public init(_ body: @escaping @Sendable () throws(Failure) -> Value) {
        Thread.detachNewThread { [self] in
            let result = Result { () throws(Failure) in try body() }
            lock.withLock { stored = result }
            done.signal()
        }
    }

    /// Whether the work finished within `seconds`; once true, later calls return true at once.
    public func finished(within seconds: Int) -> Bool {
        guard done.wait(timeout: .now() + .seconds(seconds)) == .success else { return false }
        done.signal()
        return true
    }

    /// The work's result, or nil while it runs.
    public var result: Result<Value, Failure>? { lock.withLock { stored } }
}
