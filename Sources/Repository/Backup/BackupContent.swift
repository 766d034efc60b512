import Tranlog

/// One backup file's content, read front to back: the file's bytes, or what they gunzip to, a piece
/// at a time. It knows the file and part, to name them in errors.
struct BackupContent {
    let file: String
    let part: Int
    let fileByteCount: UInt64
    private let decompressor: GzipStreamDecompressor?
    private var buffer: [UInt8]
    private var position = 0
    /// The content offset of `buffer[0]`.
    private var bufferOffset: UInt64 = 0
    /// How much to gunzip at a time: large enough to amortize the calls, small next to a file.
    private static let readAheadBytes = 1 << 20

    init(file: String, part: Int, bytes: [UInt8]) {
        self.file = file
        self.part = part
        self.fileByteCount = UInt64(bytes.count)
        let compressed = bytes.starts(with: BackupFormat.gzipMagic)
        self.decompressor = compressed ? GzipStreamDecompressor(bytes) : nil
        self.buffer = compressed ? [] : bytes
    }

    /// The content offset of the next byte to read; the content's length once all is read.
    var offset: UInt64 { bufferOffset + UInt64(position) }

    /// The next `count` bytes, or nil (reading nothing) when the content ends first.
    mutating func readIfAvailable(_ count: Int) throws(BackupError) -> ArraySlice<UInt8>? {
        while buffer.count - position < count {
            guard try refill() else { return nil }
        }
        defer { position += count }
        return buffer[position..<position + count]
    }

    /// The next `count` bytes, which belong to `what`: the content ending first is a truncation.
    mutating func read(_ count: Int, inside what: String) throws(BackupError) -> ArraySlice<UInt8> {
        guard let bytes = try readIfAvailable(count) else {
            throw .truncated(file: file, part: part, offset: bufferOffset + UInt64(buffer.count), detail: "inside \(what)")
        }
        return bytes
    }

    mutating func isAtEnd() throws(BackupError) -> Bool {
        while position == buffer.count {
            guard try refill() else { return true }
        }
        return false
    }

    /// Reads to the end and returns the last `count` bytes (fewer if the content is shorter), with
    /// their offset. Only the kept bytes stay in memory.
    mutating func skipToEnd(keepingLast count: Int) throws(BackupError) -> (bytes: ArraySlice<UInt8>, offset: UInt64) {
        repeat { position = max(position, buffer.count - count) } while try refill()
        return (buffer[position...], offset)
    }

    func corrupt(_ region: BackupRegion, at offset: UInt64, _ detail: String) -> BackupError {
        .corrupt(file: file, part: part, region: region, offset: offset, detail: detail)
    }

    /// Gunzips more content into the buffer, dropping what was read; false at the content's end.
    private mutating func refill() throws(BackupError) -> Bool {
        guard let decompressor else { return false }
        switch decompressor.read(maxCount: Self.readAheadBytes) {
        case .failure(let error):
            throw .damagedCompression(file: file, part: part, detail: error.description)
        case .success(let more):
            guard !more.isEmpty else { return false }
            buffer.removeSubrange(..<position)
            bufferOffset += UInt64(position)
            position = 0
            buffer.append(contentsOf: more)
            return true
        }
    }
}
