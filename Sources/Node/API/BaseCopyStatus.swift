import Replication

/// A standby's base copy, in `GET /status` (`baseCopy`) once the node serves: how the copy that made
/// its data directory went. Absent on a node that started from an existing directory.
public struct BaseCopyStatus: Codable, Hashable, Sendable {
    public enum State: String, Codable, Sendable {
        case copying, verifying, restoring, waitingToRetry, done
    }

    public var state: State
    /// Backup bytes received in the current attempt, and the backup's size once the primary said it.
    public var bytes: UInt64
    public var total: UInt64?
    public var attempts: Int
    /// Why the previous attempt failed (it was retried).
    public var lastError: String?
    /// The seqno the copy restored to: streaming went on from the next one.
    public var restoredSeqno: UInt64?
    public var seconds: Double?

    public init(state: State, bytes: UInt64 = 0, total: UInt64? = nil, attempts: Int = 0) {
        self.state = state
        self.bytes = bytes
        self.total = total
        self.attempts = attempts
    }
}

/// `GET /status` while a standby copies its base (no repository exists yet to report on): the same
/// `role`, `version`, `httpAddress` and `dataDirectory` as `NodeStatus`, and the copy's progress.
public struct BaseCopyPhaseStatus: Codable, Hashable, Sendable {
    public var role: String
    public var version: String
    public var httpAddress: String
    public var dataDirectory: String
    public var baseCopy: BaseCopyStatus
}
