/// Little-endian encoding for the extent and MANIFEST formats (Tranlog's own coder is internal to it).
struct LittleEndianWriter {
    var bytes: [UInt8] = []

    mutating func append<Integer: FixedWidthInteger>(_ value: Integer) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(contentsOf other: some Collection<UInt8>) {
        bytes.append(contentsOf: other)
    }
}

/// Little-endian decoding from a slice. Reads return nil when the bytes run out: callers turn that
/// into the precise error for what they were reading.
struct LittleEndianReader {
    let bytes: ArraySlice<UInt8>
    private(set) var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    var isAtEnd: Bool { position == bytes.endIndex }

    mutating func read<Integer: FixedWidthInteger>(_: Integer.Type = Integer.self) -> Integer? {
        let size = MemoryLayout<Integer>.size
        guard bytes.endIndex - position >= size else { return nil }
        var value = Integer.zero
        for index in 0..<size { value |= Integer(bytes[position + index]) << (8 * index) }
        position += size
        return value
    }

    mutating func readBytes(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, bytes.endIndex - position >= count else { return nil }
        defer { position += count }
        return bytes[position..<position + count]
    }
}
