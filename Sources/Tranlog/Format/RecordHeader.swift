/// The fixed fields every record carries. `previousCRC` is the CRC of the record before it (across
/// files too), so records chain and a spliced or reordered log cannot pass as whole.
public struct RecordHeader: Hashable, Sendable {
    public var kind: RecordKind
    public var seqno: Seqno
    public var epoch: Epoch
    public var time: Timestamp
    public var sourceID: SourceID
    public var previousCRC: UInt32

    public init(kind: RecordKind, seqno: Seqno, epoch: Epoch, time: Timestamp, sourceID: SourceID, previousCRC: UInt32) {
        self.kind = kind
        self.seqno = seqno
        self.epoch = epoch
        self.time = time
        self.sourceID = sourceID
        self.previousCRC = previousCRC
    }
}

/// A record decoded from its frame, with the exact frame bytes (shipped byte-identical to standbys).
public struct DecodedRecord: Sendable {
    public var header: RecordHeader
    public var body: RecordBody
    /// The CRC stored in (and verified against) the frame's last four bytes.
    public var crc: UInt32
    public var frame: ArraySlice<UInt8>
}

/// A record read from a tranlog file: the decoded record and where it was found.
public struct TranlogRecord: Sendable {
    public var record: DecodedRecord
    public var eventID: EventID

    public init(record: DecodedRecord, eventID: EventID) {
        self.record = record
        self.eventID = eventID
    }

    public var header: RecordHeader { record.header }
    public var body: RecordBody { record.body }
    public var seqno: Seqno { record.header.seqno }
    public var crc: UInt32 { record.crc }
    public var frameLength: Int { record.frame.count }
}
