import Dispatch
import Transport

/// Where a loop-confined object's file reads and writes run: on a serial queue of its own (`reader`),
/// or, with none, as loop work (the fake loop's tests, where the loop's thread is the test's). Either
/// way the outcome comes back as loop work, so the loop thread never waits for a disk.
struct OffLoopFiles: Sendable {
    let reader: DispatchQueue?
    let loop: any EventLoop

    /// Runs `read` (any file work) on the reader, then `done` on the loop with its outcome.
    func run<Value: Sendable, Failure: Error>(
        _ read: @escaping @Sendable () throws(Failure) -> Value, then done: @escaping @Sendable (Result<Value, Failure>) -> Void
    ) {
        let finish = { @Sendable [loop] (result: Result<Value, Failure>) in loop.execute { done(result) } }
        guard let reader else { return finish(Result(catching: read)) }
        reader.async { finish(Result(catching: read)) }
    }

    /// Runs `work` on the reader after all file work queued before it, and does not wait.
    func afterFileWork(_ work: @escaping @Sendable () -> Void) {
        guard let reader else { return loop.execute(work) }
        reader.async(execute: work)
    }
}
