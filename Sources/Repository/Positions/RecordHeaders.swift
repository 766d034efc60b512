import Tranlog

/// A record's headers without its body: what `tranlog find` prints (Tungsten's
/// `thl list -event … -headers`) and `GET /tranlog/find` answers. In JSON the time is ISO 8601 and the
/// CRCs are `0x` + 8 hex digits, as everywhere an operator reads them.
public struct RecordHeaders: Hashable, Sendable, Codable {
    public var seqno: Seqno
    public var epoch: Epoch
    public var eventID: EventID
    public var sourceID: SourceID
    public var time: Timestamp
    public var kind: RecordKind
    /// The record's own CRC: what `position set --record-crc` takes.
    public var recordCRC: UInt32
    /// The CRC of the record before it (the chain).
    public var previousCRC: UInt32
    /// Operations of a commit; 0 for markers.
    public var operations: Int

    public init(_ record: TranlogRecord) {
        seqno = record.seqno
        epoch = record.header.epoch
        eventID = record.eventID
        sourceID = record.header.sourceID
        time = record.header.time
        kind = record.header.kind
        recordCRC = record.crc
        previousCRC = record.header.previousCRC
        if case .commit(let operations) = record.body { self.operations = operations.count } else { operations = 0 }
    }

    /// The position `position set` stores when this record is the last one applied.
    public var position: AppliedPosition {
        AppliedPosition(seqno: seqno, epoch: epoch, eventID: eventID, sourceID: sourceID, time: time, recordCRC: recordCRC)
    }

    private enum CodingKeys: String, CodingKey {
        case seqno, epoch, eventID, file, sourceID, time, kind, recordCRC, previousCRC, operations
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        seqno = try container.decode(Seqno.self, forKey: .seqno)
        epoch = try container.decode(Epoch.self, forKey: .epoch)
        eventID = try container.decode(EventID.self, forKey: .eventID)
        sourceID = try container.decode(SourceID.self, forKey: .sourceID)
        kind = try RecordKind.named(container.decode(String.self, forKey: .kind), codingPath: container.codingPath)
        operations = try container.decode(Int.self, forKey: .operations)
        time = try Self.decode(.time, in: container) { Timestamp(iso8601: $0) }
        recordCRC = try Self.decode(.recordCRC, in: container, CRCText.parse)
        previousCRC = try Self.decode(.previousCRC, in: container, CRCText.parse)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seqno, forKey: .seqno)
        try container.encode(epoch, forKey: .epoch)
        try container.encode(eventID, forKey: .eventID)
        try container.encode(eventID.fileID.fileName, forKey: .file)
        try container.encode(sourceID, forKey: .sourceID)
        try container.encode(time.iso8601, forKey: .time)
        try container.encode(kind.description, forKey: .kind)
        try container.encode(hex(recordCRC), forKey: .recordCRC)
        try container.encode(hex(previousCRC), forKey: .previousCRC)
        try container.encode(operations, forKey: .operations)
    }

    private static func decode<Value>(
        _ key: CodingKeys, in container: KeyedDecodingContainer<CodingKeys>, _ parse: (String) -> Value?
    ) throws -> Value {
        let text = try container.decode(String.self, forKey: key)
        guard let value = parse(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "'\(text)' is not a valid \(key.stringValue)")
        }
        return value
    }
}

/// A record CRC as operators copy it: `0x` and 8 hex digits (what `hex` prints); the `0x` is optional.
public enum CRCText {
    public static func parse(_ text: String) -> UInt32? {
        let digits = text.hasPrefix("0x") || text.hasPrefix("0X") ? text.dropFirst(2) : Substring(text)
        guard (1...8).contains(digits.count) else { return nil }
        return UInt32(digits, radix: 16)
    }

    public static func format(_ crc: UInt32) -> String { hex(crc) }
}

extension RecordKind {
    static func named(_ name: String, codingPath: [any CodingKey]) throws -> RecordKind {
        guard let kind = allCases.first(where: { $0.description == name }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "'\(name)' is not a record kind"))
        }
        return kind
    }
}
