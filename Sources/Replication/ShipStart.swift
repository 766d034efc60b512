import Tranlog

/// Where streaming to a standby begins: a file and an offset in it, and whether the standby must be
/// sent the file's header first (it does not have the file yet).
struct ShipStart {
    var cursor: ShipCursor
    var sendsFileStart: Bool
    var headerBytes: [UInt8]

    /// Finds the record after the standby's `position` in the primary's log and checks that the
    /// standby's last record is the primary's record of that seqno (same CRC). The file is the newest
    /// one starting at or before that seqno: files of an abandoned timeline have lower fileIds than
    /// the epoch that replaced them, so the newest candidate is on the primary's own history.
    static func locate(for hello: Hello, in log: PrimaryLog, chunkBytes: Int) throws(TranlogError) -> Result<ShipStart, RejectReason> {
        let wanted = hello.position.seqno.next
        var candidates: [(ref: TranlogFileRef, header: FileHeader, bytes: [UInt8])] = []
        for ref in try log.files() {
            if let (header, bytes) = try log.header(of: ref) { candidates.append((ref, header, bytes)) }
        }
        guard let file = candidates.last(where: { $0.header.firstSeqno <= wanted }) else {
            return .failure(.logsRemoved(needed: wanted, oldestAvailable: candidates.first?.header.firstSeqno))
        }
        var cursor = ShipCursor(file: file.ref, header: file.header)
        while cursor.lastSeqno < hello.position.seqno {
            let chunk = try log.frames(of: file.ref, from: cursor.offset, after: cursor.lastSeqno, chunkBytes: chunkBytes)
            guard !chunk.headers.isEmpty else { break }
            for frame in chunk.headers where cursor.lastSeqno < hello.position.seqno { cursor.advance(past: frame) }
        }
        if cursor.lastSeqno == hello.position.seqno, cursor.lastCRC != hello.recordCRC, hello.position.seqno != .zero {
            return .failure(.divergentRecord(seqno: hello.position.seqno, primaryCRC: cursor.lastCRC, standbyCRC: hello.recordCRC))
        }
        guard cursor.lastSeqno == hello.position.seqno else {
            return .failure(.standbyAhead(standby: hello.position.seqno, primary: cursor.lastSeqno))
        }
        return resumeOrRestart(cursor, mirrorEnd: hello.mirrorEnd, headerBytes: file.bytes)
    }

    /// A standby holding the file continues at the cursor; one without it gets the whole file from its
    /// header, so its copy has the primary's offsets (records it already has are skipped on apply).
    private static func resumeOrRestart(_ cursor: ShipCursor, mirrorEnd: EventID?, headerBytes: [UInt8]) -> Result<ShipStart, RejectReason> {
        let next = cursor.nextEventID
        guard let mirrorEnd, mirrorEnd.fileID >= cursor.file.fileID else {
            let restart = ShipCursor(file: cursor.file, header: cursor.header)
            return .success(ShipStart(cursor: restart, sendsFileStart: true, headerBytes: headerBytes))
        }
        guard mirrorEnd == next else { return .failure(.mirrorMismatch(primary: next, standby: mirrorEnd)) }
        return .success(ShipStart(cursor: cursor, sendsFileStart: false, headerBytes: headerBytes))
    }
}

/// The shipper's place in the primary's log: the file being shipped, the offset of the next frame
/// and the chain of the record before it.
struct ShipCursor {
    var file: TranlogFileRef
    var offset = UInt64(FileHeader.size)
    private var chain: LogChain

    init(file: TranlogFileRef, header: FileHeader) {
        self.file = file
        chain = LogChain(
            in: header, lastSeqno: header.previousLastSeqno, lastCRC: header.previousLastRecordCRC, lastEpoch: nil, sawFileEnd: false,
            fileHasRecords: false)
    }

    var header: FileHeader { chain.file! }
    var lastSeqno: Seqno { chain.lastSeqno }
    var lastCRC: UInt32 { chain.lastCRC! }
    var endedWithFileEnd: Bool { chain.sawFileEnd }
    var nextEventID: EventID { EventID(fileID: file.fileID, offset: offset) }

    /// Passes a record of the primary's own log (its writer checked the chain when it wrote it).
    mutating func advance(past frame: FrameHeader) {
        offset += UInt64(frame.length)
        chain.append(frame)
    }

    /// Whether `next` is the file that continues this one (`LogChain.joinBreak`).
    func isContinued(by next: FileHeader) -> Bool { chain.joinBreak(next) == nil }
}
