/// The name of the node that produced a record (Tungsten's source id), e.g. `db1-east`. Stored in
/// every record header, so its length is bounded.
public struct SourceID: Hashable, Sendable, TextCodable {
    public static let textFormat = "a valid source id (1–255 bytes, no control characters)"
    public static let maxBytes = 255

    public let name: String

    /// Fails for an empty name, one longer than `maxBytes` in UTF-8, or one with control characters.
    public init?(_ name: String) {
        guard !name.isEmpty, name.utf8.count <= SourceID.maxBytes,
            !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { return nil }
        self.name = name
    }

    public var description: String { name }
}
