import SystemPackage

/// How a writer appends to one repository's tranlog directory.
public struct TranlogWriterConfiguration: Sendable {
    public var directory: FilePath
    public var repositoryID: RepositoryID
    /// The node name stamped on every record.
    public var sourceID: SourceID
    /// A file is rotated before a record would take it past this size (default 64 MiB). A single
    /// record larger than this still goes into a file of its own.
    public var rotationBytes: Int = TranlogLimits.defaultRotationBytes
    /// Prepares each next file ahead of the writer as `rotationBytes` of zeros (`SegmentPreallocator`),
    /// so commits overwrite instead of growing the file. Preparation starts once the current file is
    /// half full, or, for a file that grows (one the writer created, or opened without a zero tail),
    /// after `leavesGrowingFileAfter` appends: the writer then rotates into the prepared file as soon
    /// as it is ready, because every sync in a growing file also records its new size (about twice
    /// the cost, docs/PLATFORM.md). Default off here; a node's repository turns it on.
    public var preallocatesSegments = false
    /// Appends to a growing file before its successor is prepared early (see `preallocatesSegments`):
    /// enough that a writer opened for a few records (a tool, a test) never writes a segment of zeros.
    public var leavesGrowingFileAfter = 1000
    /// After each sync the flush thread polls this long for the next record before it sleeps, giving
    /// way to any other thread each turn (`TranlogWriter.pollForWork`). Default zero: sleep at once;
    /// a node sets it from `--busy-poll-us`.
    public var pollBudget: Duration = .zero
    /// Commit times. Injected so tests can control them.
    public var clock: @Sendable () -> Timestamp = { Timestamp.now() }

    public init(directory: FilePath, repositoryID: RepositoryID, sourceID: SourceID) {
        self.directory = directory
        self.repositoryID = repositoryID
        self.sourceID = sourceID
    }

    /// Nil when usable, else the problem.
    public func validate() -> String? {
        let smallest = FileHeader.size + 2 * RecordFrame.minimumBytes
        guard rotationBytes >= smallest else { return "rotationBytes must be at least \(smallest)" }
        guard pollBudget >= .zero else { return "pollBudget must not be negative" }
        return nil
    }
}

/// Where a brand-new tranlog directory starts: the first file's id and the chain it continues
/// (zero for a new repository; the backup's position for a restored one).
public struct ChainStart: Hashable, Sendable {
    public var fileID: FileID
    public var epoch: Epoch
    public var previousLastSeqno: Seqno
    public var previousLastRecordCRC: UInt32

    public init(fileID: FileID, epoch: Epoch, previousLastSeqno: Seqno, previousLastRecordCRC: UInt32) {
        self.fileID = fileID
        self.epoch = epoch
        self.previousLastSeqno = previousLastSeqno
        self.previousLastRecordCRC = previousLastRecordCRC
    }

    public static let newRepository = ChainStart(fileID: .first, epoch: .first, previousLastSeqno: .zero, previousLastRecordCRC: 0)
}

/// A record the writer has made durable.
public struct AppendedRecord: Hashable, Sendable {
    public var seqno: Seqno
    public var epoch: Epoch
    public var eventID: EventID
    public var time: Timestamp
    public var crc: UInt32
    /// Bytes the record takes in the log.
    public var frameLength: Int
}
