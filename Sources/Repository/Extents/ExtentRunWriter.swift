import SystemPackage
import Tranlog

/// The extent run file, format version 1: `extents/extent-NNNNNN.dbf`, immutable once written.
/// Integers are little-endian; every CRC is CRC-32 (zlib/IEEE polynomial).
///
///     header (64 bytes, at offset 0)
///     offset  size  field
///     0       8     magic "USEXTENT"
///     8       2     formatVersion (1)
///     10      2     headerSize (64)
///     12      4     flags (0)
///     16      16    repositoryID
///     32      8     generation      (the NNNNNN of the file name)
///     40      20    reserved, zero
///     60      4     headerCRC       (CRC-32 of bytes 0..<60)
///
///     blocks, back to back from offset 64; each is a 16-byte block header and its data:
///     0       4     compressedLength
///     4       4     uncompressedLength   (≤ 64 KiB + 15 + 1024 + 16 MiB)
///     8       4     entryCount           (≥ 1)
///     12      4     dataCRC         (CRC-32 of the compressed bytes)
///     16      compressedLength bytes: the block's entries, raw deflate (RFC 1951, no zlib wrapper)
///
///     entry, inside an uncompressed block (15 bytes, then key and value):
///     0       2     keyLength       (1...1024)
///     2       1     kind            (0 = value, 1 = tombstone)
///     3       8     seqno           (of the commit that last wrote the key)
///     11      4     valueLength     (0...16 MiB; 0 for a tombstone)
///     15      keyLength bytes of key, then valueLength bytes of value
///
///     index (right after the last block), one record per block, in file order:
///     0       8     blockOffset
///     8       4     blockLength     (16 + compressedLength)
///     12      2     firstKeyLength
///     14      firstKeyLength bytes: the block's first key
///
///     footer (the last 72 bytes of the file)
///     0       8     indexOffset     (= 64 + the lengths of all blocks)
///     8       8     indexLength     (= file size − 72 − indexOffset)
///     16      8     blockCount
///     24      8     entryCount
///     32      8     tombstoneCount
///     40      8     minSeqno        (0 for an empty run)
///     48      8     maxSeqno        (0 for an empty run)
///     56      4     indexCRC        (CRC-32 of the index bytes)
///     60      4     footerCRC       (CRC-32 of footer bytes 0..<60)
///     64      8     magic "USEXTENT"
///
/// Keys are unique and strictly increasing in unsigned byte order across the whole run. The writer
/// ends a block with the entry that brings its uncompressed size to 64 KiB or more, so a large value
/// makes one large block; an empty run has no blocks and an empty index. A reader checks the header,
/// then validates from the end: trailing magic, footer CRC, index bounds and CRC, blocks contiguous
/// from offset 64 to the index; then, block by block, the data CRC, both lengths, the entry count,
/// the key order and limits, the first key against the index, and finally the footer's totals.
enum ExtentFormat {
    static let magic: [UInt8] = Array("USEXTENT".utf8)
    static let version: UInt16 = 1
    static let headerBytes = 64
    static let blockHeaderBytes = 16
    static let entryFixedBytes = 15
    static let indexFixedBytes = 14
    static let footerBytes = 72
    static let targetBlockBytes = 64 * 1024
    /// The largest block a writer can produce: just under the target, then one maximal entry.
    static let maxBlockBytes = targetBlockBytes + entryFixedBytes + TranlogLimits.maxKeyBytes + TranlogLimits.maxValueBytes

    enum Kind: UInt8 {
        case value = 0
        case tombstone = 1
    }
}

/// Writes a new extent run.
public enum ExtentRunWriter {
    /// Writes `entries` (sorted by key, unique, within `TranlogLimits`: a violation is a programmer
    /// error) as run `generation` at `path`, which must be named for it. The file is written under a
    /// temporary name, synced, renamed into place (replacing a run left by a checkpoint that never
    /// switched MANIFEST) and its directory synced, so a crash never leaves a partial run at `path`.
    public static func write(
        _ entries: some Sequence<ExtentEntry>, generation: UInt64, repositoryID: RepositoryID, to path: FilePath,
        fileSystem: any TranlogFileSystem
    ) throws(ExtentError) -> ExtentRunSummary {
        try ExtentRunBuilder.build(generation: generation, repositoryID: repositoryID, to: path, fileSystem: fileSystem) {
            (builder: inout ExtentRunBuilder) throws(ExtentError) in
            for entry in entries { try builder.add(entry) }
        }
    }
}

/// Streams entries into blocks of a run being written; `build` owns the file's whole life.
struct ExtentRunBuilder {
    private let file: any AppendableFile
    private let compressor = makeBlockCompressor()
    private var block = ByteWriter()
    private var blockEntryCount: UInt32 = 0
    private var blockFirstKey: [UInt8] = []
    private var index = ByteWriter()
    private var offset = UInt64(ExtentFormat.headerBytes)
    private var blockCount: UInt64 = 0
    private var totals = ExtentRunTotals()
    private var lastKey: [UInt8]?

    /// Writes a run whose entries `body` adds, and makes it durable at `path`. If writing fails the
    /// temporary file is removed (best effort: the next attempt removes a leftover anyway).
    static func build(
        generation: UInt64, repositoryID: RepositoryID, to path: FilePath, fileSystem: any TranlogFileSystem,
        body: (inout ExtentRunBuilder) throws(ExtentError) -> Void
    ) throws(ExtentError) -> ExtentRunSummary {
        let fileName = ExtentRunSummary.fileName(generation: generation)
        precondition(path.lastComponent?.string == fileName, "run \(generation) must be written as \(fileName), not \(path)")
        let temporary = FilePath(path.string + ".tmp")
        if fileSystem.fileExists(temporary) { try fileCall { () throws(TranlogError) in try fileSystem.removeFile(temporary) } }
        let file = try fileCall { () throws(TranlogError) in try fileSystem.createFile(temporary) }
        let summary: ExtentRunSummary
        do throws(ExtentError) {
            // Closed exactly once on every path. On success the data is already synced, so a failing close
            // loses nothing; on failure the file is removed anyway.
            defer { try? file.close() }
            var builder = ExtentRunBuilder(file: file)
            try builder.writeHeader(generation: generation, repositoryID: repositoryID)
            try body(&builder)
            let byteCount = try builder.finish()
            try fileCall { () throws(TranlogError) in try file.sync() }
            summary = builder.summary(fileName: fileName, generation: generation, byteCount: byteCount)
        } catch {
            try? fileSystem.removeFile(temporary)
            throw error
        }
        try fileCall { () throws(TranlogError) in
            try fileSystem.rename(temporary, to: path)
            try fileSystem.syncDirectory(path.removingLastComponent())
        }
        return summary
    }

    private init(file: any AppendableFile) {
        self.file = file
    }

    mutating func add(_ entry: ExtentEntry) throws(ExtentError) {
        precondition((1...TranlogLimits.maxKeyBytes).contains(entry.key.count), "extent key of \(entry.key.count) bytes")
        precondition((entry.value?.count ?? 0) <= TranlogLimits.maxValueBytes, "extent value of \(entry.value!.count) bytes")
        precondition(lastKey.map { $0.lexicographicallyPrecedes(entry.key) } ?? true, "extent entries must be sorted and unique")
        lastKey = entry.key
        if blockEntryCount == 0 { blockFirstKey = entry.key }
        ExtentEntryCoding.encode(entry, into: &block)
        blockEntryCount += 1
        totals.count(entry)
        if block.bytes.count >= ExtentFormat.targetBlockBytes { try flushBlock() }
    }

    private func writeHeader(generation: UInt64, repositoryID: RepositoryID) throws(ExtentError) {
        var header = ByteWriter()
        header.append(contentsOf: ExtentFormat.magic)
        header.append(ExtentFormat.version)
        header.append(UInt16(ExtentFormat.headerBytes))
        header.append(UInt32(0))
        header.append(contentsOf: repositoryID.bytes)
        header.append(generation)
        header.append(contentsOf: repeatElement(0, count: ExtentFormat.headerBytes - 4 - header.bytes.count))
        header.append(Checksum.crc32(header.bytes))
        precondition(header.bytes.count == ExtentFormat.headerBytes)
        try append(header.bytes)
    }

    private mutating func flushBlock() throws(ExtentError) {
        let compressed = compressor.compress(block.bytes)
        var encoded = ByteWriter()
        encoded.append(UInt32(compressed.count))
        encoded.append(UInt32(block.bytes.count))
        encoded.append(blockEntryCount)
        encoded.append(Checksum.crc32(compressed))
        encoded.append(contentsOf: compressed)
        try append(encoded.bytes)

        index.append(offset)
        index.append(UInt32(encoded.bytes.count))
        index.append(UInt16(blockFirstKey.count))
        index.append(contentsOf: blockFirstKey)
        offset += UInt64(encoded.bytes.count)
        blockCount += 1
        block.bytes.removeAll(keepingCapacity: true)
        blockEntryCount = 0
    }

    /// Writes the last block, the index and the footer; returns the file's size.
    private mutating func finish() throws(ExtentError) -> UInt64 {
        if blockEntryCount > 0 { try flushBlock() }
        var footer = ByteWriter()
        footer.append(offset)
        footer.append(UInt64(index.bytes.count))
        footer.append(blockCount)
        footer.append(totals.entryCount)
        footer.append(totals.tombstoneCount)
        footer.append(totals.minSeqno.rawValue)
        footer.append(totals.maxSeqno.rawValue)
        footer.append(Checksum.crc32(index.bytes))
        footer.append(Checksum.crc32(footer.bytes))
        footer.append(contentsOf: ExtentFormat.magic)
        precondition(footer.bytes.count == ExtentFormat.footerBytes)
        try append(index.bytes + footer.bytes)
        return offset + UInt64(index.bytes.count + footer.bytes.count)
    }

    private func summary(fileName: String, generation: UInt64, byteCount: UInt64) -> ExtentRunSummary {
        ExtentRunSummary(
            fileName: fileName, generation: generation, entryCount: totals.entryCount, tombstoneCount: totals.tombstoneCount,
            byteCount: byteCount, minSeqno: totals.minSeqno, maxSeqno: totals.maxSeqno)
    }

    private func append(_ bytes: [UInt8]) throws(ExtentError) {
        try fileCall { () throws(TranlogError) in try file.append(bytes[...]) }
    }
}

/// Runs a file-system operation, wrapping its error for the extents.
func fileCall<Value>(_ body: () throws(TranlogError) -> Value) throws(ExtentError) -> Value {
    do { return try body() } catch { throw .io(error) }
}
