import Foundation
import Logging
import Tranlog

/// Takes checkpoints on a thread of its own: every `interval` while there are changes, and at once
/// when the log written since the last checkpoint passes its size bound.
final class CheckpointScheduler: @unchecked Sendable {
    private let condition = NSCondition()
    private var requested = false
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    init(repository: Repository, interval: Duration) {
        let seconds = interval.inSeconds
        Thread.start(named: "checkpoint") { [weak repository, self] in
            while self.waitForTurn(seconds: seconds), let repository {
                do { try repository.checkpoint() } catch {
                    repository.logger.error("checkpoint failed; will retry", metadata: ["error": "\(error)"])
                }
            }
            self.finished.signal()
        }
    }

    func requestCheckpoint() {
        condition.withLock {
            requested = true
            condition.signal()
        }
    }

    /// Stops the thread, waiting for a checkpoint in progress to finish.
    func stop() {
        condition.withLock {
            stopped = true
            condition.signal()
        }
        finished.wait()
    }

    /// Waits for the interval or a request; false once stopped.
    private func waitForTurn(seconds: Double) -> Bool {
        condition.withLock {
            let deadline = Date().addingTimeInterval(seconds)
            while !requested && !stopped && condition.wait(until: deadline) {}
            requested = false
            return !stopped
        }
    }
}
