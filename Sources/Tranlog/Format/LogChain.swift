/// The one rule that makes a sequence of records trustworthy (FORMATS 1.5), kept from frame headers
/// alone: each record has the next seqno and names the CRC of the record before it; records carry
/// their file's epoch; nothing follows a fileEnd; an epoch changes only through an epochBegin that is
/// its file's first record and branches from the epoch and seqno before it; a file joins the one
/// before it by header (`joinBreak`). The reader, the standby's validator, the shipper and replay
/// all keep one of these and differ only in how they word a break.
public struct LogChain: Hashable, Sendable {
    /// The last record's seqno and CRC, or what the current file's header says precedes it. A nil
    /// CRC is not known (a position recorded without one): the next record's is taken on trust.
    public private(set) var lastSeqno: Seqno
    public private(set) var lastCRC: UInt32?
    /// The last record's epoch; nil before any record.
    public private(set) var lastEpoch: Epoch?
    /// The header of the file being read; nil when the chain stands on a position outside any file.
    public private(set) var file: FileHeader?
    public private(set) var sawFileEnd = false
    public private(set) var fileHasRecords = false

    /// A chain that continues a position: the record `seqno` (CRC `crc`) of epoch `epoch`.
    public init(after seqno: Seqno, crc: UInt32?, epoch: Epoch?) {
        lastSeqno = seqno
        lastCRC = crc
        lastEpoch = epoch
    }

    /// A chain inside `file` just past a record (or at the file's start when `fileHasRecords` is false).
    public init(in file: FileHeader, lastSeqno: Seqno, lastCRC: UInt32, lastEpoch: Epoch?, sawFileEnd: Bool, fileHasRecords: Bool) {
        self.init(after: lastSeqno, crc: lastCRC, epoch: lastEpoch)
        self.file = file
        self.sawFileEnd = sawFileEnd
        self.fileHasRecords = fileHasRecords
    }

    /// The epoch the log is in: the last record's, or the current file's before it has any.
    public var epoch: Epoch? { lastEpoch ?? file?.epoch }

    /// Why `frame` cannot be the next record; nil when it can.
    public func recordBreak(_ frame: FrameHeader) -> ChainBreak? {
        if sawFileEnd { return .followsFileEnd }
        guard frame.seqno == lastSeqno.next else { return .unexpectedSeqno(expected: lastSeqno.next) }
        if let lastCRC, frame.previousCRC != lastCRC { return .brokenCRC(follows: frame.previousCRC, last: lastCRC) }
        if let file, frame.epoch != file.epoch { return .epochOutsideFile(frame.epoch, fileEpoch: file.epoch) }
        guard let info = frame.epochBegin else {
            if let lastEpoch, frame.epoch != lastEpoch { return .epochChangeWithoutBegin(from: lastEpoch, to: frame.epoch) }
            return nil
        }
        if fileHasRecords { return .epochBeginNotFirst }
        guard info.epoch == frame.epoch, info.forkSeqno.next == frame.seqno else { return .epochBeginMismatch(info) }
        if let lastEpoch, info.parentEpoch != lastEpoch || info.epoch <= lastEpoch { return .wrongParent(info, lastEpoch: lastEpoch) }
        return nil
    }

    /// Takes `frame` as the last record; the caller checked it with `recordBreak`.
    public mutating func append(_ frame: FrameHeader) {
        lastSeqno = frame.seqno
        lastCRC = frame.crc
        lastEpoch = frame.epoch
        sawFileEnd = frame.kind == .fileEnd
        fileHasRecords = true
    }

    /// Why `next` cannot be the file after the current one; nil when it can. A file of the same
    /// epoch follows a fileEnd with the next fileId; a new epoch's file may follow a gap and a file
    /// without fileEnd (a restore point), because its header chains to that file's last record
    /// exactly. Before any file, a chain takes its continuity from the first header.
    public func joinBreak(_ next: FileHeader) -> FileJoinBreak? {
        guard let file else { return nil }
        guard next.fileID > file.fileID else { return .fileIDNotAfter(file.fileID) }
        let epoch = epoch ?? file.epoch
        if next.epoch < epoch { return .epochGoesBack(from: epoch) }
        let opensEpoch = next.epoch > epoch
        if opensEpoch, next.previousLastSeqno < lastSeqno { return .forkInTime(epoch: epoch) }
        let chains = next.previousLastSeqno == lastSeqno && lastCRC.map { next.previousLastRecordCRC == $0 } ?? true
        if opensEpoch && chains { return nil }
        guard next.fileID == file.fileID.next else { return .fileSkipped(after: file.fileID) }
        guard sawFileEnd else { return .noFileEnd(file.fileID) }
        guard chains else { return .brokenJoin(lastSeqno: lastSeqno, lastCRC: lastCRC ?? 0) }
        return nil
    }

    /// Enters `next`, which `joinBreak` accepted; the first file sets the chain from its header.
    public mutating func enter(_ next: FileHeader) {
        if file == nil {
            lastSeqno = next.previousLastSeqno
            lastCRC = next.previousLastRecordCRC
        }
        lastEpoch = epoch
        file = next
        sawFileEnd = false
        fileHasRecords = false
    }
}

/// Why a record cannot follow the chain, worded for an operator (the caller names the record).
public enum ChainBreak: Hashable, Sendable, CustomStringConvertible {
    case followsFileEnd
    case unexpectedSeqno(expected: Seqno)
    case brokenCRC(follows: UInt32, last: UInt32)
    case epochOutsideFile(Epoch, fileEpoch: Epoch)
    case epochChangeWithoutBegin(from: Epoch, to: Epoch)
    case epochBeginNotFirst
    case epochBeginMismatch(EpochBeginInfo)
    case wrongParent(EpochBeginInfo, lastEpoch: Epoch)

    public var description: String {
        switch self {
        case .followsFileEnd: "a record follows the file's fileEnd record"
        case .unexpectedSeqno(let expected): "expected seqno \(expected)"
        case .brokenCRC(let follows, let last):
            "chain broken: it follows CRC \(hex(follows)) but the record before has CRC \(hex(last))"
        case .epochOutsideFile(let epoch, let fileEpoch): "epoch \(epoch) in a file of epoch \(fileEpoch)"
        case .epochChangeWithoutBegin(let from, let to): "epoch changes from \(from) to \(to) without an epochBegin record"
        case .epochBeginNotFirst: "an epochBegin record must be the first record of its file"
        case .epochBeginMismatch(let info):
            "epochBegin for epoch \(info.epoch) with fork seqno \(info.forkSeqno) does not match its header"
        case .wrongParent(let info, let lastEpoch):
            "epoch \(info.epoch) begins as a child of epoch \(info.parentEpoch), but the log was in epoch \(lastEpoch)"
        }
    }
}

/// Why a file cannot follow the one before it. `LogChain.joinBreak` decides; each reader words it.
public enum FileJoinBreak: Hashable, Sendable {
    /// Its fileId is not above the current file's.
    case fileIDNotAfter(FileID)
    /// Its epoch is older than the log's.
    case epochGoesBack(from: Epoch)
    /// It opens a newer epoch that branched before the last record of `epoch`: another timeline.
    case forkInTime(epoch: Epoch)
    /// Same epoch, but not the next fileId.
    case fileSkipped(after: FileID)
    /// The current file did not end with a fileEnd record.
    case noFileEnd(FileID)
    /// Its header continues another record than the last one.
    case brokenJoin(lastSeqno: Seqno, lastCRC: UInt32)
}
