import Tranlog

/// Message bodies are written with Tranlog's little-endian `ByteWriter`, plus the strings of the wire.
extension ByteWriter {
    /// A string of at most 255 UTF-8 bytes, preceded by its length.
    mutating func appendShortString(_ text: String) {
        let utf8 = Array(text.utf8)
        precondition(utf8.count <= 255, "short strings are at most 255 bytes")
        append(UInt8(utf8.count))
        append(contentsOf: utf8)
    }

    /// A string of at most 16,000 characters (so at most 64,000 UTF-8 bytes; longer is cut), preceded
    /// by its UTF-8 length as a u16.
    mutating func appendLongString(_ text: String) {
        let utf8 = Array(text.prefix(16_000).utf8)
        append(UInt16(utf8.count))
        append(contentsOf: utf8)
    }
}

/// The little-endian UInt32 in the first four bytes (the envelope's length and CRC fields).
func readUInt32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    readLittleEndian(UInt32.self, in: bytes, at: bytes.startIndex)
}

/// Little-endian reading of message bodies. Every read throws `ProtocolViolation.malformed` when the
/// body ends early, so a decoder reads fields in order and never checks lengths by hand.
struct WireReader {
    private var reader: ByteReader
    private let messageType: MessageType

    init(_ bytes: ArraySlice<UInt8>, type: MessageType) {
        reader = ByteReader(bytes)
        self.messageType = type
    }

    var isAtEnd: Bool { reader.isAtEnd }

    mutating func read<Integer: FixedWidthInteger>(_: Integer.Type = Integer.self) throws(ProtocolViolation) -> Integer {
        guard let value = reader.read(Integer.self) else { throw malformed("it ends early") }
        return value
    }

    mutating func readBytes(_ count: Int) throws(ProtocolViolation) -> ArraySlice<UInt8> {
        guard let bytes = reader.readBytes(count) else { throw malformed("it ends early") }
        return bytes
    }

    mutating func readRest() -> ArraySlice<UInt8> {
        reader.readBytes(reader.remaining) ?? []
    }

    mutating func readShortString() throws(ProtocolViolation) -> String {
        let length: UInt8 = try read()
        guard let text = String(validating: try readBytes(Int(length)), as: UTF8.self) else {
            throw malformed("a string is not valid UTF-8")
        }
        return text
    }

    mutating func readLongString() throws(ProtocolViolation) -> String {
        let length: UInt16 = try read()
        guard let text = String(validating: try readBytes(Int(length)), as: UTF8.self) else {
            throw malformed("a string is not valid UTF-8")
        }
        return text
    }

    /// The body must be used up: trailing bytes mean the peer and we disagree on the layout.
    func finish() throws(ProtocolViolation) {
        guard isAtEnd else { throw malformed("\(reader.remaining) unexpected bytes follow its fields") }
    }

    func malformed(_ reason: String) -> ProtocolViolation {
        .malformed(type: messageType, reason: reason)
    }
}
