/// The damaged end of the newest tranlog file, left by a crash in the middle of a write: bytes that
/// never became a whole, valid record. Nothing in it was ever acknowledged.
public struct TornTail: Hashable, Sendable, CustomStringConvertible {
    public var fileID: FileID
    public var file: String
    public var offset: UInt64
    public var byteCount: UInt64
    public var reason: String

    public var description: String {
        "torn tail of \(byteCount) bytes at offset \(offset) of fileId \(fileID) (\(file)): \(reason)"
    }
}

/// Decides whether damage in the newest file is a torn tail. Appends are sequential, so a crash can
/// only damage the end: if any valid record of this file's epoch, with a later seqno, starts after
/// the damage, the damage is not a torn tail but corruption of acknowledged data.
enum TornTailProbe {
    static func firstValidRecord(
        in bytes: [UInt8], after damageOffset: Int, epoch: Epoch, lastSeqno: Seqno
    ) -> (offset: Int, seqno: Seqno)? {
        let end = bytes.count
        var position = damageOffset + 1
        while position + RecordFrame.minimumBytes <= end {
            defer { position += 1 }
            guard isPlausibleStart(bytes, at: position, end: end, epoch: epoch, lastSeqno: lastSeqno) else { continue }
            if case .record(let record) = RecordFrame.decode(bytes[position...]) {
                return (position, record.header.seqno)
            }
        }
        return nil
    }

    /// Cheap field checks before paying for a CRC over a candidate frame.
    private static func isPlausibleStart(_ bytes: [UInt8], at position: Int, end: Int, epoch: Epoch, lastSeqno: Seqno) -> Bool {
        let slice = bytes[...]
        let length = Int(readLittleEndian(UInt32.self, in: slice, at: position))
        guard length >= RecordFrame.minimumBytes, length <= end - position,
            RecordKind(rawValue: bytes[position + 4]) != nil, bytes[position + 5] == 0,
            readLittleEndian(UInt64.self, in: slice, at: position + 16) == epoch.rawValue
        else { return false }
        let seqno = readLittleEndian(UInt64.self, in: slice, at: position + 8)
        return seqno > lastSeqno.rawValue
    }
}
