import SystemPackage
import Tranlog

/// A full backup staged in a file on the primary for one base copy, then sent and discarded.
public struct StagedBackup: Sendable {
    public var path: FilePath
    public var byteCount: UInt64
    public var repositoryID: RepositoryID
    /// The backup's applied position (its last commit).
    public var position: LogPosition
    public var compressed: Bool

    public init(path: FilePath, byteCount: UInt64, repositoryID: RepositoryID, position: LogPosition, compressed: Bool) {
        self.path = path
        self.byteCount = byteCount
        self.repositoryID = repositoryID
        self.position = position
        self.compressed = compressed
    }
}

/// What a primary makes base copies with (the node's repository; a fake in tests). Staging writes the
/// backup to disk so that neither side ever holds it in memory: the sender reads it a chunk at a time,
/// as fast as the connection takes them.
public protocol BaseCopySource: Sendable {
    /// Makes a full backup for `standby`, off the caller's thread; `completion` may run on any thread.
    /// A refusal is `backupInProgress` (retry later) or `baseCopyFailed` (the disk is full, say).
    func stage(for standby: SourceID, completion: @escaping @Sendable (Result<StagedBackup, RejectReason>) -> Void)
    func read(_ backup: StagedBackup, at offset: UInt64, count: Int) throws(TranlogError) -> [UInt8]
    /// Removes the staged file (sent, or the standby went away).
    func discard(_ backup: StagedBackup)
}
