import Repository
import SystemPackage
import Tranlog

/// What a shipper needs of its primary: where the tranlogs are and the primary's identity, history
/// and durable position, read afresh whenever needed (they change as the node commits).
public struct PrimaryLog {
    public var directory: FilePath
    public var fileSystem: any TranlogFileSystem
    public var repositoryID: RepositoryID
    public var history: () -> EpochHistory
    /// The last seqno whose record is synced. Nothing past it is shipped: a standby must never hold
    /// a record its primary could still lose in a crash.
    public var durableSeqno: () -> Seqno
    /// The newest durable frames, in memory: shipped from there while a standby is not behind them.
    public var recentFrames: RecentFrames?
    /// The primary's wall clock, sent in heartbeats.
    public var clock: () -> Timestamp
    /// The content digest at the visible position, sent in heartbeats.
    public var digest: () -> PositionedDigest
    /// What the next heartbeat tells a standby (by node id) of its synchronous standing.
    public var standing: (String) -> SynchronousStanding = { _ in .notRequired }
    /// False while the node is itself a standby (in restore mode): it then refuses every standby,
    /// since standbys are not cascaded; it serves them once promoted.
    public var isPrimary: () -> Bool
    /// Fences this primary at a newer epoch a standby's hello revealed, and calls back (on any
    /// thread) with the fence in force or why it could not be written. The node writes `fence.json`
    /// off the loop thread; the shipper refuses the standby once the callback came.
    public var fence: (NewerEpoch, @escaping @Sendable (Result<FenceState, RepositoryError>) -> Void) -> Void

    public init(
        directory: FilePath, fileSystem: any TranlogFileSystem, repositoryID: RepositoryID,
        history: @escaping () -> EpochHistory, durableSeqno: @escaping () -> Seqno, digest: @escaping () -> PositionedDigest,
        clock: @escaping () -> Timestamp = { Timestamp.now() }, isPrimary: @escaping () -> Bool = { true },
        fence: @escaping (NewerEpoch, @escaping @Sendable (Result<FenceState, RepositoryError>) -> Void) -> Void
    ) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.repositoryID = repositoryID
        self.history = history
        self.durableSeqno = durableSeqno
        self.clock = clock
        self.digest = digest
        self.isPrimary = isPrimary
        self.fence = fence
    }

    /// The plain tranlog files, in fileId order. Archived `.gz` files are not shipped: a standby that
    /// needs one is told the logs were removed.
    func files() throws(TranlogError) -> [TranlogFileRef] {
        try TranlogDirectory.scan(directory, fileSystem: fileSystem).files.filter { !$0.isCompressed }
    }

    /// A file's header and its bytes; nil while the file is shorter than a header (being created).
    func header(of file: TranlogFileRef) throws(TranlogError) -> (header: FileHeader, bytes: [UInt8])? {
        let bytes = try fileSystem.read(file.path, at: 0, count: FileHeader.size)
        guard bytes.count == FileHeader.size else { return nil }
        return (try header(file, decoding: bytes), bytes)
    }

    /// The file this log names by `fileID`.
    func file(_ fileID: FileID) -> TranlogFileRef {
        TranlogFileRef(fileID: fileID, path: directory.appending(fileID.fileName))
    }

    /// `bytes`, checked as the header of this repository's `file`.
    func header(_ file: TranlogFileRef, decoding bytes: [UInt8]) throws(TranlogError) -> FileHeader {
        switch FileHeader.decode(bytes[...]) {
        case .success(let header):
            guard header.repositoryID == repositoryID else {
                throw .otherRepository(file: file.path.string, found: header.repositoryID, expected: repositoryID)
            }
            guard header.fileID == file.fileID else { throw .misnamedFile(file: file.path.string, headerFileID: header.fileID) }
            return header
        case .failure(let defect):
            throw .corruptHeader(file: file.path.string, defect: defect)
        }
    }

    /// Whole, durable frames of `file` from `offset`, where the record after `lastSeqno` starts: about
    /// `chunkBytes` of them, or one frame when a single frame is larger. Stops at `durableSeqno`, read
    /// before the file: every record up to it was whole on disk when read, while the frames after it
    /// may be half-written over a preallocated file's zeros, so they are not even read. Frames are
    /// CRC-checked, not decoded: shipping needs their boundaries and header fields only.
    func frames(of file: TranlogFileRef, from offset: UInt64, after lastSeqno: Seqno, chunkBytes: Int) throws(TranlogError) -> FrameChunk {
        let durable = durableSeqno()
        guard lastSeqno < durable else { return FrameChunk() }
        var bytes = try fileSystem.read(file.path, at: offset, count: chunkBytes)
        if bytes.count == chunkBytes {
            // A frame larger than a chunk is read whole; a length past the format's limit is left for
            // the decoder to report as corrupt.
            let length = Int(readUInt32(bytes[...]))
            if length > chunkBytes && length <= TranlogLimits.maxFrameBytes {
                bytes = try fileSystem.read(file.path, at: offset, count: length)
            }
        }
        var chunk = FrameChunk()
        var position = 0
        reading: while position < bytes.count, (chunk.headers.last?.seqno ?? lastSeqno) < durable {
            switch RecordFrame.readHeader(bytes[position...]) {
            case .header(let header):
                chunk.headers.append(header)
                position += header.length
            case .needMoreBytes:
                break reading
            case .invalid(let defect):
                throw .corruptRecord(
                    file: file.path.string, fileID: file.fileID, offset: offset + UInt64(position),
                    expectedSeqno: (chunk.headers.last?.seqno ?? lastSeqno).next, defect: defect)
            }
        }
        chunk.bytes = Array(bytes[..<position])
        return chunk
    }
}

extension PrimaryLog {
    /// What follows `cursor` in the files: its file's next durable frames, else the file after it
    /// once that exists with a whole header, else nothing yet.
    func next(after cursor: ShipCursor, chunkBytes: Int) throws(TranlogError) -> FileStep {
        let chunk = try frames(of: cursor.file, from: cursor.offset, after: cursor.lastSeqno, chunkBytes: chunkBytes)
        if !chunk.headers.isEmpty { return .frames(chunk) }
        guard let next = try files().first(where: { $0.fileID > cursor.file.fileID }), let (header, bytes) = try header(of: next) else {
            return .nothing
        }
        return .nextFile(next, header, bytes)
    }
}

/// What a shipper reading the files finds after its cursor.
enum FileStep {
    case frames(FrameChunk)
    case nextFile(TranlogFileRef, FileHeader, [UInt8])
    case nothing
}

/// Consecutive whole frames of one file: `bytes` is exactly their frames back to back.
struct FrameChunk {
    var bytes: [UInt8] = []
    var headers: [FrameHeader] = []
}
