/// The fixed fields of one frame, read and CRC-checked without decoding its body: what the chain
/// rule (`LogChain`) and a writer of byte-identical copies need. An epochBegin's payload is part of
/// it, being fixed-size and what the chain rule checks an epoch change against.
public struct FrameHeader: Hashable, Sendable {
    /// The whole frame's length in bytes.
    public var length: Int
    public var kind: RecordKind
    public var seqno: Seqno
    public var epoch: Epoch
    public var time: Timestamp
    public var previousCRC: UInt32
    /// The CRC stored in (and verified against) the frame's last four bytes.
    public var crc: UInt32
    /// Bytes of the source id, which follows the fixed fields.
    public var sourceLength: Int
    /// The payload of an epochBegin record; nil for every other kind.
    public var epochBegin: EpochBeginInfo?

    public init(
        length: Int, kind: RecordKind, seqno: Seqno, epoch: Epoch, time: Timestamp, previousCRC: UInt32, crc: UInt32,
        sourceLength: Int, epochBegin: EpochBeginInfo?
    ) {
        self.length = length
        self.kind = kind
        self.seqno = seqno
        self.epoch = epoch
        self.time = time
        self.previousCRC = previousCRC
        self.crc = crc
        self.sourceLength = sourceLength
        self.epochBegin = epochBegin
    }
}

/// The outcome of reading one frame's header. Running out of bytes is an expected outcome.
public enum FrameHeaderReading: Sendable {
    case header(FrameHeader)
    /// The bytes end before the frame does.
    case needMoreBytes
    case invalid(FrameDefect)
}

extension DecodedRecord {
    /// The header fields of this record's frame (what the chain rule checks).
    public var frameHeader: FrameHeader {
        let epochBegin: EpochBeginInfo? = if case .epochBegin(let info) = body { info } else { nil }
        return FrameHeader(
            length: frame.count, kind: header.kind, seqno: header.seqno, epoch: header.epoch, time: header.time,
            previousCRC: header.previousCRC, crc: crc, sourceLength: header.sourceID.name.utf8.count, epochBegin: epochBegin)
    }
}
