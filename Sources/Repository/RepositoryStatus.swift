import Tranlog

/// A consistent picture of a repository for `GET /status` and `understudy status`.
public struct RepositoryStatus: Hashable, Sendable, Codable {
    public var repositoryID: RepositoryID
    public var sourceID: SourceID
    public var loggingMode: LoggingMode
    public var epoch: Epoch
    public var applied: AppliedPosition
    public var objectCount: Int
    /// The content digest of the objects, at `applied.seqno`.
    public var digest: PositionedDigest
    public var checkpoint: CheckpointStatus
    /// Why commits are refused, when they are (a failed tranlog write, restore mode).
    public var writesRefused: String?
    /// Whether the repository is in restore mode, and the manual's restoreStatus line.
    public var restoring: Bool
    public var restoreStatus: String
    /// The full backup under way, if any, with its progress.
    public var backup: BackupProgress?
}

public struct CheckpointStatus: Hashable, Sendable, Codable {
    public var position: AppliedPosition
    public var manifestGeneration: UInt64
    public var runCount: Int
    public var oldestFileIDNeeded: FileID
    public var logBytesSinceCheckpoint: Int
    public var inProgress: Bool
    public var suspension: CheckpointSuspensionStatus
}
