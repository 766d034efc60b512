import Foundation
import Tranlog

/// Suspended checkpoints (the manual's suspendCheckpointsForMinutes:): while suspended, no checkpoint
/// or merge runs, so the extent files and MANIFEST do not change and a plain `cp -a` of the data
/// directory (extents plus the tranlogs written since) is a consistent backup.
public struct CheckpointSuspensionStatus: Codable, Hashable, Sendable {
    public var suspended: Bool
    public var secondsRemaining: Double

    public init(suspended: Bool, secondsRemaining: Double) {
        self.suspended = suspended
        self.secondsRemaining = secondsRemaining
    }
}

extension Repository {
    /// Suspends checkpoints for `duration`, after waiting for a checkpoint in progress to finish. A
    /// second suspend while one is still waiting for that checkpoint fails. Refused in partial
    /// logging mode, as in the reference manual: there the tranlogs a snapshot needs may already be
    /// recycled, so an extent snapshot cannot be rolled forward — take a full backup instead.
    public func suspendCheckpoints(for duration: Duration) throws(RepositoryError) -> CheckpointSuspensionStatus {
        guard duration > .zero else { throw .notAllowed("a checkpoint suspension needs a positive duration") }
        guard config.loggingMode == .full else {
            throw .notAllowed(
                "checkpoints cannot be suspended in partial logging mode (extent snapshot backups need full logging); "
                    + "make a full backup instead: understudy backup full")
        }
        try stateLock.locked { () throws(RepositoryError) in
            guard !suspensionWaiting else {
                throw .busy("another checkpoint suspension is waiting for the checkpoint in progress to finish; try again when it has")
            }
            suspensionWaiting = true
        }
        defer { stateLock.withLock { suspensionWaiting = false } }
        checkpointLock.withLock { suspendedUntil = ContinuousClock.now + duration }
        logger.notice("checkpoints suspended", metadata: ["seconds": "\(duration.components.seconds)"])
        return checkpointSuspension
    }

    /// Resumes checkpoints. Returns whether they were still suspended: if not, the suspension lapsed
    /// and a snapshot taken meanwhile may be inconsistent.
    @discardableResult
    public func resumeCheckpoints() -> Bool {
        let wasSuspended = checkpointLock.withLock {
            defer { suspendedUntil = nil }
            return suspendedUntil.map { ContinuousClock.now < $0 } ?? false
        }
        logger.notice("checkpoints resumed", metadata: ["wereStillSuspended": "\(wasSuspended)"])
        return wasSuspended
    }

    /// The suspension as last set; never waits for a checkpoint in progress (the loop answers it).
    public var checkpointSuspension: CheckpointSuspensionStatus {
        Self.suspensionStatus(until: lastSetSuspension)
    }

    /// Call under `checkpointLock`.
    var suspensionStatusLocked: CheckpointSuspensionStatus { Self.suspensionStatus(until: suspendedUntil) }

    static func suspensionStatus(until: ContinuousClock.Instant?) -> CheckpointSuspensionStatus {
        let now = ContinuousClock.now
        guard let until, now < until else { return CheckpointSuspensionStatus(suspended: false, secondsRemaining: 0) }
        return CheckpointSuspensionStatus(suspended: true, secondsRemaining: (until - now).inSeconds)
    }
}
