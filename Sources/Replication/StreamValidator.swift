import Tranlog

/// The standby's check of everything it receives, before a byte of it is written: the chain rule
/// (`LogChain`, FORMATS 1.5) applied to file headers and frame headers arriving on the wire. Only
/// headers are read (each frame's CRC covers its body); bodies are decoded once, by the applier. Its
/// state is exactly the mirror's: every write follows a successful validation, a refused message
/// changes nothing, and a failed write stops the receiver.
struct StreamValidator: Sendable {
    let repositoryID: RepositoryID
    private(set) var chain: LogChain
    /// Bytes in the newest file (where the next frame goes).
    private(set) var fileSize: UInt64 = 0
    /// Commit time of the last record; nil while the newest file has none.
    private(set) var lastTime: Timestamp?

    /// An empty mirror of a standby restored to `position`: the first file must contain the record after it.
    init(repositoryID: RepositoryID, emptyAt position: Seqno, crc: UInt32) {
        self.repositoryID = repositoryID
        chain = LogChain(after: position, crc: crc, epoch: nil)
    }

    /// A mirror whose newest file is `file`, `fileSize` bytes long, ending with the given record.
    init(repositoryID: RepositoryID, file: FileHeader, fileSize: UInt64, last: FrameHeader?) {
        self.repositoryID = repositoryID
        self.fileSize = fileSize
        chain = LogChain(
            in: file, lastSeqno: last?.seqno ?? file.previousLastSeqno, lastCRC: last?.crc ?? file.previousLastRecordCRC,
            lastEpoch: last?.epoch, sawFileEnd: last?.kind == .fileEnd, fileHasRecords: last != nil)
        lastTime = last?.time
    }

    /// The header of the mirror's newest file; nil for an empty mirror.
    var file: FileHeader? { chain.file }
    var lastSeqno: Seqno { chain.lastSeqno }
    var lastCRC: UInt32 { chain.lastCRC ?? 0 }
    /// Where the next frame goes; nil for an empty mirror.
    var mirrorEnd: EventID? { chain.file.map { EventID(fileID: $0.fileID, offset: fileSize) } }

    /// Accepts the header of the next file.
    mutating func acceptFileStart(_ bytes: [UInt8]) -> Result<FileHeader, StreamViolation> {
        let header: FileHeader
        switch FileHeader.decode(bytes[...]) {
        case .success(let decoded): header = decoded
        case .failure(let defect): return .failure(.badFileHeader(defect.description))
        }
        guard header.repositoryID == repositoryID else {
            return .failure(.badFileHeader("\(header.fileID.fileName) belongs to repository \(header.repositoryID), not \(repositoryID)"))
        }
        if let problem = joinProblem(header) { return .failure(.badFileHeader("\(header.fileID.fileName): \(problem)")) }
        chain.enter(header)
        fileSize = UInt64(FileHeader.size)
        return .success(header)
    }

    private func joinProblem(_ header: FileHeader) -> String? {
        guard let file else {
            return header.firstSeqno <= lastSeqno.next ? nil : "starts at seqno \(header.firstSeqno), after the needed \(lastSeqno.next)"
        }
        switch chain.joinBreak(header) {
        case nil: return nil
        case .fileIDNotAfter: return "does not follow \(file.fileID.fileName)"
        case .epochGoesBack(let epoch): return "epoch \(header.epoch) follows epoch \(epoch)"
        case .forkInTime(let epoch):
            return "epoch \(header.epoch) branches after seqno \(header.previousLastSeqno), but the mirror holds epoch \(epoch) "
                + "through seqno \(lastSeqno)"
        case .fileSkipped: return "a fileId was skipped after \(file.fileID.fileName)"
        case .noFileEnd: return "\(file.fileID.fileName) did not end with fileEnd"
        case .brokenJoin(let lastSeqno, let lastCRC):
            return "continues seqno \(header.previousLastSeqno) (CRC \(hex(header.previousLastRecordCRC))), "
                + "the mirror ends at seqno \(lastSeqno) (CRC \(hex(lastCRC)))"
        }
    }

    /// Accepts a batch only if every frame in it is whole, intact and next in sequence; returns the
    /// frames' headers. On failure nothing changes.
    mutating func acceptRecords(_ batch: RecordBatch) -> Result<[FrameHeader], StreamViolation> {
        guard let file else { return .failure(.recordsWithoutFile) }
        let expected = EventID(fileID: file.fileID, offset: fileSize)
        guard batch.firstEventID == expected else { return .failure(.misplacedBatch(expected: expected, got: batch.firstEventID)) }
        var next = chain
        var headers: [FrameHeader] = []
        var position = 0
        while position < batch.frames.count {
            let offset = EventID(fileID: file.fileID, offset: fileSize + UInt64(position))
            switch RecordFrame.readHeader(batch.frames[position...]) {
            case .needMoreBytes: return .failure(.badFrame(at: offset, "the batch ends inside a frame"))
            case .invalid(let defect): return .failure(.badFrame(at: offset, defect.description))
            case .header(let header):
                if let chainBreak = next.recordBreak(header) { return .failure(.badFrame(at: offset, "seqno \(header.seqno): \(chainBreak)")) }
                next.append(header)
                headers.append(header)
                position += header.length
            }
        }
        chain = next
        fileSize += UInt64(batch.frames.count)
        lastTime = headers.last?.time ?? lastTime
        return .success(headers)
    }
}

/// Why a standby refused what its primary sent. The connection is closed with it and the mirror is
/// left as it was before the refused message.
enum StreamViolation: Error, CustomStringConvertible {
    case badFileHeader(String)
    case recordsWithoutFile
    case misplacedBatch(expected: EventID, got: EventID)
    case badFrame(at: EventID, String)

    var description: String {
        switch self {
        case .badFileHeader(let reason): "refused file header: \(reason)"
        case .recordsWithoutFile: "records arrived before any fileStart"
        case .misplacedBatch(let expected, let got): "records for \(got) where the mirror continues at \(expected)"
        case .badFrame(let at, let reason): "refused frame at \(at): \(reason)"
        }
    }
}
