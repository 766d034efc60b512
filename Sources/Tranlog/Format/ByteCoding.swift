/// Little-endian encoding into a growing byte array. Every on-disk and wire integer is little-endian:
/// tranlogs, extents, MANIFEST, backups and replication messages all use this one coder (`package`).
package struct ByteWriter {
    package var bytes: [UInt8]

    package init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    package mutating func append<Integer: FixedWidthInteger>(_ value: Integer) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    package mutating func append(contentsOf other: some Sequence<UInt8>) {
        bytes.append(contentsOf: other)
    }

    package mutating func appendZeros(_ count: Int) {
        bytes.append(contentsOf: repeatElement(0, count: count))
    }

    /// Overwrites a fixed-width integer already reserved at `offset` (lengths and CRCs known last).
    package mutating func set<Integer: FixedWidthInteger>(_ value: Integer, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for (index, byte) in raw.enumerated() { bytes[offset + index] = byte }
        }
    }
}

/// Little-endian decoding from a slice. Reads return nil when the bytes run out: callers turn that
/// into the precise error for what they were reading.
package struct ByteReader {
    package let bytes: ArraySlice<UInt8>
    package private(set) var position: Int

    package init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    package var remaining: Int { bytes.endIndex - position }
    package var isAtEnd: Bool { position == bytes.endIndex }

    package mutating func read<Integer: FixedWidthInteger>(_: Integer.Type = Integer.self) -> Integer? {
        let size = MemoryLayout<Integer>.size
        guard remaining >= size else { return nil }
        defer { position += size }
        return readLittleEndian(Integer.self, in: bytes, at: position)
    }

    package mutating func readBytes(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, remaining >= count else { return nil }
        defer { position += count }
        return bytes[position..<position + count]
    }
}

/// Reads a little-endian integer at an absolute index of a byte collection: one range check and one
/// load (a copy byte by byte, each index checked, was most of reading a frame's header).
package func readLittleEndian<Integer: FixedWidthInteger>(
    _: Integer.Type, in bytes: ArraySlice<UInt8>, at index: Int
) -> Integer {
    precondition(index >= bytes.startIndex && index <= bytes.endIndex - MemoryLayout<Integer>.size, "read past the bytes")
    return bytes.withUnsafeBytes { Integer(littleEndian: $0.loadUnaligned(fromByteOffset: index - bytes.startIndex, as: Integer.self)) }
}
