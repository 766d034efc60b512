/// Where a record sits on disk, printed Tungsten-style as `tranlog12.dbf:4096` (file, byte offset of
/// the record's first byte). A standby writes received records at the same event ids as its primary.
public struct EventID: Hashable, Sendable, TextCodable {
    public static let textFormat = "an event id like tranlog12.dbf:4096"

    public var fileID: FileID
    public var offset: UInt64

    public init(fileID: FileID, offset: UInt64) {
        self.fileID = fileID
        self.offset = offset
    }

    /// Parses `tranlog12.dbf:4096` (a `.gz` suffix on the file name is accepted).
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"),
            let fileID = FileID(fileName: String(text[..<colon])),
            let offset = UInt64(text[text.index(after: colon)...])
        else { return nil }
        self.init(fileID: fileID, offset: offset)
    }

    public var description: String { "\(fileID.fileName):\(offset)" }
}
