/// Reads the records of a sequence of tranlog files in order, checking everything that makes the
/// sequence trustworthy: every CRC, seqno continuity, the CRC chain within and across files, the
/// header chain (previous file's last seqno and CRC), fileIds without gaps, one repository, epochs
/// that change only through an epochBegin record at the start of a file.
///
/// Damage yields a precise `TranlogError`. The one exception is a torn tail of the newest file (a
/// crash mid-write): it ends the sequence and is reported in `tornTail`. Zeros from a frame boundary
/// to the end of the newest file are the unwritten rest of a preallocated segment, not damage.
public struct TranlogCursor {
    private let directory: TranlogDirectory
    private let fileSystem: any TranlogFileSystem
    private var expectedRepository: RepositoryID?

    private var fileIndex = -1
    private var current: TranlogFileContents?
    private var offset = 0
    /// The file offset of `current.bytes[0]`: 0, or the resume offset when resumed mid-file.
    private var base = 0
    private var finished = false

    /// The chain the next record must continue: the last record returned, or the first file's header.
    private var chain = LogChain(after: .zero, crc: nil, epoch: nil)
    public private(set) var lastEventID: EventID?
    /// Where the last file finished ended (named when the next one does not join it).
    private var previousFileEnd = 0

    /// The last record returned (or what the first file's header says precedes it); nil before a file is read.
    public var lastSeqno: Seqno? { chain.file == nil ? nil : chain.lastSeqno }
    public var lastCRC: UInt32? { chain.file == nil ? nil : chain.lastCRC }

    /// Set when the newest file ended in a torn tail.
    public private(set) var tornTail: TornTail?
    /// The header of the file being read (or last read).
    public private(set) var currentHeader: FileHeader?
    /// The byte offset just past the last whole record of the file being read (or last read).
    public var endOfLastRecord: UInt64 { UInt64(offset) }

    public init(
        directory: TranlogDirectory, fileSystem: any TranlogFileSystem = PosixFileSystem(),
        expectedRepository: RepositoryID? = nil
    ) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.expectedRepository = expectedRepository
    }

    /// Resumes reading `point`'s file just past the record it names, reading only the bytes after it
    /// (a standby applying its growing mirror). Every check applies as if the file had been read from
    /// its start; the file is treated as the newest, so a partial frame at its end ends the sequence
    /// as a torn tail — a caller that expected more must fall back to reading from the start.
    public init(resuming point: TranlogResumePoint, fileSystem: any TranlogFileSystem = PosixFileSystem()) throws(TranlogError) {
        self.init(directory: TranlogDirectory(description: point.file.path.string, files: [point.file]), fileSystem: fileSystem,
                  expectedRepository: point.header.repositoryID)
        fileIndex = 0
        current = TranlogFileContents(ref: point.file, header: point.header, bytes: try Self.readTail(of: point.file, from: point.offset, fileSystem: fileSystem))
        currentHeader = point.header
        offset = Int(point.offset)
        base = offset
        chain = LogChain(
            in: point.header, lastSeqno: point.lastSeqno, lastCRC: point.lastCRC, lastEpoch: point.header.epoch, sawFileEnd: false,
            fileHasRecords: true)
        lastEventID = point.lastEventID
    }

    /// Where this cursor could resume after the last record it returned; nil before any record, or
    /// once that record was a fileEnd (what follows is in the next file).
    public var resumePoint: TranlogResumePoint? {
        guard let current, !current.ref.isCompressed, !chain.sawFileEnd, let lastSeqno, let lastCRC, let lastEventID,
            lastEventID.fileID == current.ref.fileID
        else { return nil }
        return TranlogResumePoint(file: current.ref, header: current.header, offset: UInt64(offset), lastSeqno: lastSeqno, lastCRC: lastCRC, lastEventID: lastEventID)
    }

    private static func readTail(of file: TranlogFileRef, from offset: UInt64, fileSystem: any TranlogFileSystem) throws(TranlogError) -> [UInt8] {
        // A step usually finds a batch or two (the shipper sends at most 256 KiB at a time).
        let chunk = 128 << 10
        var bytes: [UInt8] = []
        while true {
            let read = try fileSystem.read(file.path, at: offset + UInt64(bytes.count), count: chunk)
            bytes += read
            if read.count < chunk { return bytes }
        }
    }

    /// The next record, or nil at the end of the last file.
    public mutating func next() throws(TranlogError) -> TranlogRecord? {
        try nextFrame(header: \.frameHeader) { bytes in
            switch RecordFrame.decode(bytes) {
            case .record(let record): .frame(record)
            case .needMoreBytes: .damaged(nil)
            case .invalid(let defect): .damaged(defect)
            }
        }.map { TranlogRecord(record: $0.frame, eventID: $0.eventID) }
    }

    /// The next record's frame header, its source id and body not decoded, or nil at the end of the
    /// last file. Every check of `next` but those of the body (the CRC covers it): for a reader that
    /// needs only where the data ends and what the last record was (a standby's mirror on start).
    public mutating func nextHeader() throws(TranlogError) -> FrameHeader? {
        try nextFrame(header: { $0 }) { bytes in
            switch RecordFrame.readHeader(bytes) {
            case .header(let header): .frame(header)
            case .needMoreBytes: .damaged(nil)
            case .invalid(let defect): .damaged(defect)
            }
        }?.frame
    }

    /// What reading a frame at the offset found: the frame, or damage (nil: the bytes end inside it).
    private enum FrameRead<Frame> {
        case frame(Frame)
        case damaged(FrameDefect?)
    }

    /// Reads frames with `read` until one passes (checked against the chain) or the files end; damage
    /// ends the sequence as a torn tail or throws (`handleDamage`).
    private mutating func nextFrame<Frame>(
        header: (Frame) -> FrameHeader, read: (ArraySlice<UInt8>) -> FrameRead<Frame>
    ) throws(TranlogError) -> (frame: Frame, eventID: EventID)? {
        while let contents = try currentFile() {
            switch read(contents.bytes[(offset - base)...]) {
            case .frame(let frame): return (frame, try accept(header(frame), in: contents))
            case .damaged(let defect): try handleDamage(in: contents, defect: defect)
            }
        }
        return nil
    }

    /// The file the next frame is read from, opening the next file at the end of one; nil at the end.
    private mutating func currentFile() throws(TranlogError) -> TranlogFileContents? {
        while !finished {
            guard let contents = current else {
                try openNextFile()
                continue
            }
            if offset == base + contents.bytes.count {
                finishFile(contents)
                continue
            }
            return contents
        }
        return nil
    }

    private var isNewestFile: Bool { fileIndex == directory.files.count - 1 }

    private mutating func openNextFile() throws(TranlogError) {
        fileIndex += 1
        guard fileIndex < directory.files.count else {
            finished = true
            return
        }
        let ref = directory.files[fileIndex]
        guard let contents = try TranlogFileContents.load(ref, fileSystem: fileSystem) else {
            try acceptTornFileCreation(ref)
            return
        }
        try checkJoin(contents.header, ref: ref)
        current = contents
        currentHeader = contents.header
        offset = FileHeader.size
        base = 0
    }

    /// A file shorter than its header: legitimate only as the newest file, when a crash interrupted
    /// a rotation after the previous file was closed cleanly.
    private mutating func acceptTornFileCreation(_ ref: TranlogFileRef) throws(TranlogError) {
        let size = try fileSystem.readFile(ref.path).count
        guard isNewestFile, chain.file == nil || chain.sawFileEnd else {
            throw .corruptHeader(file: ref.path.string, defect: .tooShort(size))
        }
        tornTail = TornTail(
            fileID: ref.fileID, file: ref.path.string, offset: 0, byteCount: UInt64(size),
            reason: "the file holds only an incomplete or torn \(FileHeader.size)-byte header")
        finished = true
    }

    /// Checks that a file belongs here: same repository, and joined to the file before (`LogChain.joinBreak`).
    private mutating func checkJoin(_ header: FileHeader, ref: TranlogFileRef) throws(TranlogError) {
        let expected = expectedRepository ?? header.repositoryID
        guard header.repositoryID == expected else {
            throw .otherRepository(file: ref.path.string, found: header.repositoryID, expected: expected)
        }
        expectedRepository = expected
        if let joinBreak = chain.joinBreak(header) { throw joinError(joinBreak, header: header, ref: ref) }
        chain.enter(header)
    }

    private func joinError(_ joinBreak: FileJoinBreak, header: FileHeader, ref: TranlogFileRef) -> TranlogError {
        let previous = chain.file!.fileID
        let lastSeqno = chain.lastSeqno
        switch joinBreak {
        case .epochGoesBack(let epoch):
            return .epochGoesBack(file: ref.path.string, fileID: ref.fileID, epoch: header.epoch, replayedEpoch: epoch, replayedThrough: lastSeqno)
        case .forkInTime(let epoch):
            return .forkInTime(
                file: ref.path.string, fileID: ref.fileID, epoch: header.epoch, branchedAfter: header.previousLastSeqno,
                replayedEpoch: epoch, replayedThrough: lastSeqno)
        case .fileIDNotAfter, .fileSkipped:
            return .missingLog(after: previous, lastFound: directory.files.last!.fileID, directory: directory.description)
        case .noFileEnd:
            return .truncatedLog(
                fileID: previous, next: ref.fileID,
                detail: "\(previous.fileName) ends at offset \(previousFileEnd) after seqno \(lastSeqno) without a fileEnd record")
        case .brokenJoin(let lastSeqno, let lastCRC):
            return .truncatedLog(
                fileID: previous, next: ref.fileID,
                detail: "\(ref.fileID.fileName) continues after seqno \(header.previousLastSeqno) "
                    + "(CRC \(hex(header.previousLastRecordCRC))), but fileId \(previous) ends at seqno "
                    + "\(lastSeqno) (CRC \(hex(lastCRC)))")
        }
    }

    /// Checks a frame against the chain and moves past it; its event id.
    private mutating func accept(_ frame: FrameHeader, in contents: TranlogFileContents) throws(TranlogError) -> EventID {
        let eventID = EventID(fileID: contents.ref.fileID, offset: UInt64(offset))
        if let chainBreak = chain.recordBreak(frame) {
            throw .sequenceBreak(
                file: contents.ref.path.string, fileID: eventID.fileID, offset: eventID.offset, seqno: frame.seqno,
                detail: chainBreak.description)
        }
        offset += frame.length
        chain.append(frame)
        lastEventID = eventID
        return eventID
    }

    private mutating func finishFile(_ contents: TranlogFileContents) {
        previousFileEnd = offset
        current = nil
    }

    /// Damage at `offset`: in an older file it is a truncated or corrupt log; in the newest file it
    /// is a torn tail unless valid records follow it.
    private mutating func handleDamage(in contents: TranlogFileContents, defect: FrameDefect?) throws(TranlogError) {
        let file = contents.ref.path.string
        let fileID = contents.ref.fileID
        let expected = chain.lastSeqno.next
        if isNewestFile, contents.bytes[(offset - base)...].allSatisfy({ $0 == 0 }) {
            // The unwritten rest of a preallocated segment (FORMATS: zero tail): the end of the data.
            finishFile(contents)
            return
        }
        guard isNewestFile else {
            if let defect {
                throw .corruptRecord(file: file, fileID: fileID, offset: UInt64(offset), expectedSeqno: expected, defect: defect)
            }
            throw .truncatedLog(
                fileID: fileID, next: directory.files[fileIndex + 1].fileID,
                detail: "\(fileID.fileName) ends inside the record at offset \(offset) (seqno \(expected) expected)")
        }
        let reason = defect?.description ?? "the file ends inside the record"
        if let valid = TornTailProbe.firstValidRecord(
            in: contents.bytes, after: offset - base, epoch: contents.header.epoch, lastSeqno: chain.lastSeqno)
        {
            throw .damagedBeforeValidRecords(
                file: file, fileID: fileID, damageOffset: UInt64(offset), defect: reason, validOffset: UInt64(base + valid.offset),
                validSeqno: valid.seqno)
        }
        tornTail = TornTail(
            fileID: fileID, file: file, offset: UInt64(offset), byteCount: UInt64(base + contents.bytes.count - offset),
            reason: reason)
        finished = true
    }
}

/// Where a `TranlogCursor` stopped, just past a record in a file it may resume reading as the file
/// grows: the file, its header, the offset after the record, and the chain the next record continues.
public struct TranlogResumePoint: Hashable, Sendable {
    public var file: TranlogFileRef
    public var header: FileHeader
    public var offset: UInt64
    public var lastSeqno: Seqno
    public var lastCRC: UInt32
    public var lastEventID: EventID

    public init(file: TranlogFileRef, header: FileHeader, offset: UInt64, lastSeqno: Seqno, lastCRC: UInt32, lastEventID: EventID) {
        self.file = file
        self.header = header
        self.offset = offset
        self.lastSeqno = lastSeqno
        self.lastCRC = lastCRC
        self.lastEventID = lastEventID
    }
}
