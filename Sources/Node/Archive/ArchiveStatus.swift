import Tranlog

/// `archive` in a node's `GET /status` when it runs with `--archive-dir` or `--archive-command`: how
/// far archiving got and whether it is failing. Monitor `backlogFiles` (completed tranlogs not
/// archived yet; they are kept, even in partial logging mode, until archived) and `failingSince`.
public struct ArchiveStatus: Codable, Sendable {
    /// With `--archive-dir`: the archive directory.
    public var directory: String?
    /// With `--archive-command`: the command, before substitution.
    public var command: String?
    /// The highest fileId archived: present in the directory, or recorded after the command succeeded.
    public var lastArchivedFileID: FileID?
    /// Completed tranlogs waiting to be archived.
    public var backlogFiles: Int
    /// Files archived by this process.
    public var archivedFiles: Int
    /// Failed attempts since the process started (each is retried, with a growing delay).
    public var failures: Int
    /// The last failure, naming the file and the reason; nil once a later attempt succeeded.
    public var lastError: String?
    public var lastErrorTime: Timestamp?
    /// When the current run of failures began; nil while archiving works.
    public var failingSince: Timestamp?
    /// `idle` in restore mode (a standby archives only after its promotion), else `archiving`.
    public var state: String
}
