/// Decodes a stream of frames that arrives in arbitrary pieces (a socket, a file read in chunks).
/// Feed bytes, then take records until `next()` returns nil. A defect is thrown once and leaves the
/// decoder unusable: after a bad frame, nothing that follows can be trusted.
public struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var failed: FrameDefect?

    public init() {}

    /// Bytes fed but not yet returned as records.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    public mutating func next() throws(FrameDefect) -> DecodedRecord? {
        if let failed { throw failed }
        switch RecordFrame.decode(buffer[readIndex...]) {
        case .needMoreBytes:
            compact()
            return nil
        case .invalid(let defect):
            failed = defect
            throw defect
        case .record(var record):
            readIndex += record.frame.count
            // Detach the frame from the buffer, which is about to be compacted and reused.
            record.frame = ArraySlice(Array(record.frame))
            return record
        }
    }

    private mutating func compact() {
        guard readIndex > 0 else { return }
        buffer.removeSubrange(0..<readIndex)
        readIndex = 0
    }
}

extension FrameDefect: Error {}
