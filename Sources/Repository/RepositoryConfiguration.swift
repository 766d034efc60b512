import Tranlog

/// How a repository runs. Defaults suit a production node; tests shrink them.
public struct RepositoryConfiguration: Sendable {
    /// A checkpoint is taken at least this often while there are changes (default 60 s).
    public var checkpointInterval: Duration = .seconds(60)
    /// …and as soon as this much tranlog was written since the last one (default 64 MiB), which
    /// bounds recovery time.
    public var checkpointLogBytes: Int = 64 * 1024 * 1024
    /// More runs than this are merged into one at the next checkpoint (default 8).
    public var maxRuns: Int = 8
    /// Tranlog rotation size (default 64 MiB).
    public var rotationBytes: Int = 64 * 1024 * 1024
    /// Each next tranlog file is prepared as zeros ahead of the writer, so commits overwrite instead
    /// of growing a file (default on; see `TranlogWriterConfiguration.preallocatesSegments`).
    public var preallocatesSegments = true
    /// How long the tranlog's flush thread polls for the next commit after each sync before it
    /// sleeps (`TranlogWriterConfiguration.pollBudget`); a node sets it from its `busyPoll`. Default zero.
    public var flushPoll: Duration = .zero
    /// At most this much tranlog is kept for standbys (`--max-retained-mbytes`); nil: no limit. In
    /// partial logging mode older files are removed past it; in full logging it sets the runway reported.
    public var maxRetainedBytes: UInt64?
    /// Completed tranlogs are copied to an archive: partial logging removes none before it is archived.
    public var archivesTranlogs = false
    /// A known standby not heard from for this long no longer holds tranlogs (`--standby-slot-expiry`,
    /// default a day; nil: forever). Like PostgreSQL's `max_slot_wal_keep_size`, it keeps a
    /// throw-away standby from holding the primary's disk until someone runs `standbys forget`.
    public var standbySlotExpiry: Duration? = .seconds(24 * 3600)

    public init() {}

    /// Nil when usable, else the problem.
    public func validate() -> String? {
        if checkpointInterval <= .zero { return "checkpointInterval must be positive" }
        if checkpointLogBytes <= 0 { return "checkpointLogBytes must be positive" }
        if maxRuns < 1 { return "maxRuns must be at least 1" }
        if rotationBytes < 4096 { return "rotationBytes must be at least 4096" }
        if maxRetainedBytes == 0 { return "maxRetainedBytes must be positive" }
        if let expiry = standbySlotExpiry, expiry <= .zero { return "standbySlotExpiry must be positive" }
        if flushPoll < .zero { return "flushPoll must not be negative" }
        return nil
    }

    /// How this repository's tranlog writer runs.
    func writerConfiguration(_ directory: DataDirectory, _ config: DataDirectoryConfig) -> TranlogWriterConfiguration {
        var writer = TranlogWriterConfiguration(directory: directory.tranlogs, repositoryID: config.repositoryID, sourceID: config.sourceID)
        writer.rotationBytes = rotationBytes
        writer.preallocatesSegments = preallocatesSegments
        writer.pollBudget = flushPoll
        return writer
    }
}
