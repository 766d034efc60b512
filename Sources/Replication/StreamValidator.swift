import Tranlog

/// The standby's check of everything it receives, before a byte of it is written: the same rules a
/// tranlog reader applies (FORMATS 1.5) to file headers and frames arriving on the wire. Its state is
/// exactly the mirror's: every write follows a successful validation, a refused message changes
/// nothing, and a failed write stops the receiver.
struct StreamValidator {
    let repositoryID: RepositoryID
    /// The header of the mirror's newest file; nil for an empty mirror.
    private(set) var file: FileHeader?
    /// Bytes in that file (where the next frame goes).
    private(set) var fileSize: UInt64 = 0
    private(set) var lastSeqno: Seqno
    private(set) var lastCRC: UInt32
    /// Epoch and commit time of the last record; nil while the newest file has none.
    private(set) var lastEpoch: Epoch?
    private(set) var lastTime: Timestamp?
    private var sawFileEnd = false
    private var fileHasRecords = false

    /// An empty mirror of a standby restored to `position`: the first file must contain the record after it.
    init(repositoryID: RepositoryID, emptyAt position: Seqno, crc: UInt32) {
        self.repositoryID = repositoryID
        lastSeqno = position
        lastCRC = crc
    }

    /// A mirror whose newest file is `file`, `fileSize` bytes long, ending with the given record.
    init(repositoryID: RepositoryID, file: FileHeader, fileSize: UInt64, last: TranlogRecord?) {
        self.repositoryID = repositoryID
        self.file = file
        self.fileSize = fileSize
        lastSeqno = last?.seqno ?? file.previousLastSeqno
        lastCRC = last?.crc ?? file.previousLastRecordCRC
        lastEpoch = last?.header.epoch
        lastTime = last?.header.time
        sawFileEnd = last?.header.kind == .fileEnd
        fileHasRecords = last != nil
    }

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
        if file == nil {
            // An empty mirror takes its chain from the first header.
            lastSeqno = header.previousLastSeqno
            lastCRC = header.previousLastRecordCRC
        }
        file = header
        fileSize = UInt64(FileHeader.size)
        sawFileEnd = false
        fileHasRecords = false
        return .success(header)
    }

    private func joinProblem(_ header: FileHeader) -> String? {
        guard let file else {
            return header.firstSeqno <= lastSeqno.next ? nil : "starts at seqno \(header.firstSeqno), after the needed \(lastSeqno.next)"
        }
        guard header.fileID > file.fileID else { return "does not follow \(file.fileID.fileName)" }
        guard header.previousLastSeqno == lastSeqno, header.previousLastRecordCRC == lastCRC else {
            return "continues seqno \(header.previousLastSeqno) (CRC \(hex(header.previousLastRecordCRC))), "
                + "but the mirror ends at seqno \(lastSeqno) (CRC \(hex(lastCRC)))"
        }
        if header.epoch > file.epoch { return nil }
        guard header.epoch == file.epoch else { return "epoch \(header.epoch) follows epoch \(file.epoch)" }
        guard sawFileEnd, header.fileID == file.fileID.next else {
            return "\(file.fileID.fileName) did not end with fileEnd, or a fileId was skipped"
        }
        return nil
    }

    /// Accepts a batch only if every frame in it is whole, intact and next in sequence; returns the
    /// records. On failure nothing changes.
    mutating func acceptRecords(_ batch: RecordBatch) -> Result<[DecodedRecord], StreamViolation> {
        guard let file else { return .failure(.recordsWithoutFile) }
        let expected = EventID(fileID: file.fileID, offset: fileSize)
        guard batch.firstEventID == expected else { return .failure(.misplacedBatch(expected: expected, got: batch.firstEventID)) }
        var next = self
        var records: [DecodedRecord] = []
        var position = 0
        while position < batch.frames.count {
            let offset = EventID(fileID: file.fileID, offset: fileSize + UInt64(position))
            switch RecordFrame.decode(batch.frames[position...]) {
            case .needMoreBytes: return .failure(.badFrame(at: offset, "the batch ends inside a frame"))
            case .invalid(let defect): return .failure(.badFrame(at: offset, defect.description))
            case .record(let record):
                if let problem = next.sequenceProblem(record, in: file) { return .failure(.badFrame(at: offset, problem)) }
                next.advance(past: record)
                records.append(record)
                position += record.frame.count
            }
        }
        self = next
        return .success(records)
    }

    private func sequenceProblem(_ record: DecodedRecord, in file: FileHeader) -> String? {
        let header = record.header
        if sawFileEnd { return "seqno \(header.seqno) follows the file's fileEnd record" }
        guard header.seqno == lastSeqno.next else { return "seqno \(header.seqno) where \(lastSeqno.next) was expected" }
        guard header.previousCRC == lastCRC else {
            return "seqno \(header.seqno) follows CRC \(hex(header.previousCRC)), the mirror's last record has \(hex(lastCRC))"
        }
        guard header.epoch == file.epoch else { return "seqno \(header.seqno) has epoch \(header.epoch) in a file of epoch \(file.epoch)" }
        guard case .epochBegin(let info) = record.body else { return nil }
        guard !fileHasRecords, info.epoch == header.epoch, info.forkSeqno.next == header.seqno else {
            return "epochBegin at seqno \(header.seqno) is not its file's first record or does not match its header"
        }
        if let lastEpoch, info.parentEpoch != lastEpoch { return "epoch \(info.epoch) names parent \(info.parentEpoch), not \(lastEpoch)" }
        return nil
    }

    private mutating func advance(past record: DecodedRecord) {
        fileSize += UInt64(record.frame.count)
        lastSeqno = record.header.seqno
        lastCRC = record.crc
        lastEpoch = record.header.epoch
        lastTime = record.header.time
        sawFileEnd = record.header.kind == .fileEnd
        fileHasRecords = true
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
