import Tranlog

/// The last record applied: what `status` reports, what every checkpoint stores in MANIFEST, what a
/// backup records, and where a restore resumes (Tungsten's trep_commit_seqno). `recordCRC` is that
/// record's CRC, so the next record must name it as its `previousCRC`: logs of another timeline
/// that happen to reach the same seqno are refused instead of replayed.
public struct AppliedPosition: Codable, Hashable, Sendable, CustomStringConvertible {
    public var seqno: Seqno
    public var epoch: Epoch
    /// Where that record is in the tranlogs; nil for an empty repository.
    public var eventID: EventID?
    public var sourceID: SourceID?
    public var time: Timestamp?
    public var recordCRC: UInt32?

    public init(seqno: Seqno, epoch: Epoch, eventID: EventID?, sourceID: SourceID?, time: Timestamp?, recordCRC: UInt32?) {
        self.seqno = seqno
        self.epoch = epoch
        self.eventID = eventID
        self.sourceID = sourceID
        self.time = time
        self.recordCRC = recordCRC
    }

    /// The position of a record just read or written.
    public init(_ record: TranlogRecord) {
        self.init(
            seqno: record.seqno, epoch: record.header.epoch, eventID: record.eventID, sourceID: record.header.sourceID,
            time: record.header.time, recordCRC: record.crc)
    }

    public static let empty = AppliedPosition(seqno: .zero, epoch: .first, eventID: nil, sourceID: nil, time: nil, recordCRC: 0)

    public var description: String {
        "seqno \(seqno), epoch \(epoch)" + (eventID.map { ", event id \($0)" } ?? "") + (time.map { ", \($0.iso8601)" } ?? "")
    }
}
