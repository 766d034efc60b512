import Dispatch
import Tranlog

/// Frames a standby's mirror writer checked (CRC and chain, from their headers), wrote to its mirror
/// file and synced, handed to the applier in memory so that it decodes each body once and never
/// reads them back from disk.
public struct MirroredFrames: Sendable {
    /// The mirror file they were written to, and its header.
    public var file: TranlogFileRef
    public var fileHeader: FileHeader
    /// The file offset of the first frame.
    public var offset: UInt64
    public var frames: [UInt8]
    /// One per frame, in order; their lengths add up to `frames.count`.
    public var headers: [FrameHeader]

    public init(file: TranlogFileRef, fileHeader: FileHeader, offset: UInt64, frames: [UInt8], headers: [FrameHeader]) {
        self.file = file
        self.fileHeader = fileHeader
        self.offset = offset
        self.frames = frames
        self.headers = headers
    }

    public var firstSeqno: Seqno? { headers.first?.seqno }
    public var lastSeqno: Seqno? { headers.last?.seqno }
}

/// A batch of mirrored frames with every body decoded and every object its commits write made (and
/// so hashed for the content digest): the part of applying that does not touch the table, done on
/// another thread while the applier puts the batch before it into the table (`WorkAhead`). A
/// commit's writes are kept in one array for the whole batch, not as a record per frame: the
/// applier reads them in order and copies nothing else per commit.
struct PreparedFrames: Sendable {
    enum Frame: Sendable {
        /// A commit: its writes are `writes[writes]`.
        case commit(writes: Range<Int>, sourceID: SourceID)
        /// Any other record: rare, so boxed. Unboxed, it made every frame of a batch 120 bytes; the
        /// commits need 40.
        indirect case record(DecodedRecord)
        case invalid(FrameDefect)
    }

    let mirrored: MirroredFrames
    /// One per frame of `mirrored`, in order.
    let frames: [Frame]
    /// Every commit's writes, in order; the applier moves them into the table.
    fileprivate(set) var writes: [PreparedWrite]
    /// What each write changed, for the next checkpoint (`ChangedKeys`): one per write, made here so
    /// that the applier joins a batch's at once instead of recording each write.
    let changes: [ChangedKeys.Change]

    init(_ mirrored: MirroredFrames) {
        self.mirrored = mirrored
        var decoder = FrameBodyDecoder()
        var start = mirrored.frames.startIndex
        var writes: [PreparedWrite] = []
        writes.reserveCapacity(mirrored.headers.count)
        var changes: [ChangedKeys.Change] = []
        changes.reserveCapacity(mirrored.headers.count)
        frames = mirrored.headers.map { header in
            defer { start += header.length }
            let frame = mirrored.frames[start..<start + header.length]
            guard header.kind == .commit else {
                switch decoder.decode(frame, header: header) {
                case .record(let record): return .record(record)
                case .needMoreBytes: preconditionFailure("a mirrored frame is whole")
                case .invalid(let defect): return .invalid(defect)
                }
            }
            // A commit's writes are made straight from its payload: no record, no operations.
            let first = writes.count
            let read = decoder.decodeCommit(frame, header: header) { key, value in
                let write = PreparedWrite(key: Array(key), value: value.map { Array($0) }, seqno: header.seqno)
                writes.append(write)
                changes.append(ChangedKeys.Change(key: write.key.bytes, seqno: header.seqno, deleted: value == nil))
            }
            switch read {
            case .success(let sourceID): return .commit(writes: first..<writes.count, sourceID: sourceID)
            case .failure(let defect):
                writes.removeSubrange(first...)
                changes.removeSubrange(first...)
                return .invalid(defect)
            }
        }
        self.writes = writes
        self.changes = changes
    }
}

extension LogRestoreRun {
    /// Applies the frames after the replay's position through `target`; false, having applied what
    /// came before, at a gap, at `target` or at the horizon (what follows must come from the mirror on disk, or later).
    mutating func apply(_ prepared: inout PreparedFrames, through target: Seqno) throws(RepositoryError) -> Bool {
        let mirrored = prepared.mirrored
        let file = mirrored.file.path.string
        var offset = mirrored.offset
        // Where the next step resumes is set once, after the last frame applied (also when one throws),
        // and the changes of the commits applied are recorded at once: their writes are contiguous.
        var last: (header: FrameHeader, offset: UInt64)?
        var appliedWrites: Range<Int>?
        defer {
            if let appliedWrites { replay.dirty.append(contentsOf: prepared.changes[appliedWrites]) }
            if let last { resume(after: last.header, at: last.offset, in: mirrored) }
        }
        for (header, frame) in zip(mirrored.headers, prepared.frames) {
            defer { offset += UInt64(header.length) }
            if header.seqno <= replay.applied.seqno { continue }
            guard header.seqno == replay.applied.seqno.next, header.seqno <= target else { return false }
            if isPastHorizon(header.time) {
                stoppedByTarget = true
                return false
            }
            let eventID = EventID(fileID: mirrored.file.fileID, offset: offset)
            switch frame {
            case .commit(let writes, let sourceID):
                try replay.applyCommit(header, sourceID: sourceID, at: eventID, taking: writes, of: &prepared.writes, from: file)
                appliedWrites = (appliedWrites?.lowerBound ?? writes.lowerBound)..<writes.upperBound
                tally(header.seqno, header.kind, from: file)
            case .record(let record):
                try apply(TranlogRecord(record: record, eventID: eventID), from: file)
            case .invalid(let defect):
                throw .tranlog(
                    .corruptRecord(file: file, fileID: eventID.fileID, offset: offset, expectedSeqno: header.seqno, defect: defect))
            }
            last = (header, offset)
        }
        return true
    }

    /// Just past `header`'s frame at `offset` of `mirrored`'s file, or the next file after a fileEnd.
    private mutating func resume(after header: FrameHeader, at offset: UInt64, in mirrored: MirroredFrames) {
        resumePoint = header.kind == .fileEnd
            ? .nextFile(mirrored.file.fileID.next, lastSeqno: header.seqno, lastCRC: header.crc)
            : .inFile(TranlogResumePoint(
                file: mirrored.file, header: mirrored.fileHeader, offset: offset + UInt64(header.length), lastSeqno: header.seqno,
                lastCRC: header.crc, lastEventID: EventID(fileID: mirrored.file.fileID, offset: offset)))
    }
}
