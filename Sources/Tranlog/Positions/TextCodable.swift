/// A value that is stored in JSON as its text form (`"tranlog12.dbf:4096"`, a source id, a
/// repository id), so configs, manifests and status read naturally and parse back exactly.
public protocol TextCodable: Codable, LosslessStringConvertible {
    /// What the text must look like, for the decoding error.
    static var textFormat: String { get }
}

extension TextCodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let parsed = Self(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not \(Self.textFormat)")
        }
        self = parsed
    }
}
