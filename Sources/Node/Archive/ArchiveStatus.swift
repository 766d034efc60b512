import Tranlog

/// `archive` in a node's `GET /status` when it runs with `--archive-dir`: how far archiving got and
/// whether it is failing. Monitor `backlogFiles` (completed tranlogs not archived yet; they are kept,
/// even in partial logging mode, until archived) and `lastError`.
public struct ArchiveStatus: Codable, Sendable {
    public var directory: String
    /// The highest fileId present in the archive directory.
    public var lastArchivedFileID: FileID?
    /// Completed tranlogs waiting to be archived.
    public var backlogFiles: Int
    /// Files archived by this process.
    public var archivedFiles: Int
    /// Failed attempts since the process started (each is retried at the next pass).
    public var failures: Int
    /// The last failure, naming the file and the reason; nil once a later attempt succeeded.
    public var lastError: String?
    public var lastErrorTime: Timestamp?
    /// `idle` in restore mode (a standby archives only after its promotion), else `archiving`.
    public var state: String
}
