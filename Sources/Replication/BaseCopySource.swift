import Tranlog

/// A pinned file set on the primary, as a base copy sends it.
public struct BaseCopyPin: Sendable {
    public var id: [UInt8]
    public var repositoryID: RepositoryID
    /// The last durable commit when pinned.
    public var position: LogPosition
    public var files: [BaseCopyFile]

    public init(id: [UInt8], repositoryID: RepositoryID, position: LogPosition, files: [BaseCopyFile]) {
        self.id = id
        self.repositoryID = repositoryID
        self.position = position
        self.files = files
    }
}

/// What a primary makes base copies from (the node's repository; a fake in tests): a checkpoint pin
/// and its files' bytes, read in place — nothing is staged. Every call may block on the disk: the
/// sender makes them on its reader queue, never on the loop.
public protocol BaseCopySource: Sendable {
    /// Pins a checkpoint for `standby`, or hands back the pin `resuming` names when it is still held
    /// and no other copy is using it. A refusal is `baseCopyFailed` (the files cannot be listed, say),
    /// which the standby retries.
    func pin(for standby: SourceID, resuming: [UInt8]?) -> Result<BaseCopyPin, RejectReason>
    /// Up to `count` bytes of file `index` of the pin from `offset` (fewer only at the file's end).
    func read(_ pin: BaseCopyPin, file index: Int, at offset: UInt64, count: Int) throws(TranlogError) -> [UInt8]
    /// The copy using `pin` ended: sent whole (`completed`: release it now), or cut (keep it a while
    /// for the standby to resume, then release it).
    func release(_ pin: BaseCopyPin, completed: Bool)
}
