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

extension LogRestoreRun {
    /// Applies the frames after the replay's position through `target`; false, having applied what
    /// came before, at a gap, at `target` or at the horizon (what follows must come from the mirror on disk, or later).
    mutating func apply(_ mirrored: MirroredFrames, through target: Seqno, decoder: inout FrameBodyDecoder) throws(RepositoryError) -> Bool {
        var offset = mirrored.offset
        var start = mirrored.frames.startIndex
        for header in mirrored.headers {
            defer {
                offset += UInt64(header.length)
                start += header.length
            }
            if header.seqno <= replay.applied.seqno { continue }
            guard header.seqno == replay.applied.seqno.next, header.seqno <= target else { return false }
            if isPastHorizon(header.time) {
                stoppedByTarget = true
                return false
            }
            let eventID = EventID(fileID: mirrored.file.fileID, offset: offset)
            let record: DecodedRecord
            switch decoder.decode(mirrored.frames[start..<start + header.length], header: header) {
            case .record(let decoded): record = decoded
            case .needMoreBytes: preconditionFailure("a mirrored frame is whole")
            case .invalid(let defect):
                throw .tranlog(
                    .corruptRecord(file: mirrored.file.path.string, fileID: eventID.fileID, offset: offset, expectedSeqno: header.seqno, defect: defect))
            }
            try apply(TranlogRecord(record: record, eventID: eventID), from: mirrored.file.path.string)
            resumePoint = header.kind == .fileEnd
                ? .nextFile(eventID.fileID.next, lastSeqno: header.seqno, lastCRC: header.crc)
                : .inFile(TranlogResumePoint(
                    file: mirrored.file, header: mirrored.fileHeader, offset: offset + UInt64(header.length), lastSeqno: header.seqno,
                    lastCRC: header.crc, lastEventID: eventID))
        }
        return true
    }
}
