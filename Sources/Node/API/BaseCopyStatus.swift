import Replication

/// A standby's base copy, in `GET /status` (`baseCopy`) once the node serves: how the copy that made
/// its data directory went. Absent on a node that started from an existing directory.
public struct BaseCopyStatus: Codable, Hashable, Sendable {
    public enum State: String, Codable, Sendable {
        case copying, verifying, waitingToRetry, done
    }

    public var state: State
    /// Bytes held (received in this attempt, or in earlier ones it resumed), and the total of the
    /// pinned files once the primary listed them.
    public var bytes: UInt64
    public var total: UInt64?
    public var attempts: Int
    /// Bytes the standby already held when the last resumed attempt began (the primary sent only
    /// the rest); nil when no attempt resumed.
    public var resumedBytes: UInt64?
    /// Why the previous attempt failed (it was retried).
    public var lastError: String?
    /// The last durable commit on the primary when it pinned the copy: the copy holds at least this.
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
