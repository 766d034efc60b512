import SystemPackage
import Tranlog

/// An extent run opened for reading. Opening checks the header, footer and index; the blocks are
/// checked as they are read, so `entries()` and `verify()` never return anything unverified.
public struct ExtentRun: Sendable {
    public let path: FilePath
    public let summary: ExtentRunSummary
    let bytes: [UInt8]
    let blocks: [BlockReference]

    /// Where a block lies and the key it must start with, from the index.
    struct BlockReference: Sendable {
        var offset: Int
        var length: Int
        var firstKey: [UInt8]
    }

    /// Reads the whole file and checks everything but the blocks' contents.
    public static func open(
        _ path: FilePath, repositoryID: RepositoryID, fileSystem: any TranlogFileSystem
    ) throws(ExtentError) -> ExtentRun {
        let bytes = try fileCall { () throws(TranlogError) in try fileSystem.readFile(path) }
        let layout = ExtentRunLayout(file: path.string, bytes: bytes)
        let generation = try layout.checkHeader(repositoryID: repositoryID)
        let fileName = path.lastComponent?.string ?? path.string
        if let named = ExtentRunSummary.generation(fileName: fileName), named != generation {
            throw .misnamedRun(file: path.string, headerGeneration: generation)
        }
        let footer = try layout.checkFooter()
        let blocks = try layout.checkIndex(footer)
        let summary = ExtentRunSummary(
            fileName: fileName, generation: generation, entryCount: footer.entryCount, tombstoneCount: footer.tombstoneCount,
            byteCount: UInt64(bytes.count), minSeqno: footer.minSeqno, maxSeqno: footer.maxSeqno)
        return ExtentRun(path: path, summary: summary, bytes: bytes, blocks: blocks)
    }

    /// Every entry in key order, every block verified.
    public func entries() throws(ExtentError) -> [ExtentEntry] {
        var cursor = makeCursor()
        var entries: [ExtentEntry] = []
        while let entry = try cursor.next() { entries.append(entry) }
        return entries
    }

    /// The page audit: decodes every block (CRC, lengths, key order and limits) and checks the
    /// footer's totals, without keeping the entries.
    @discardableResult
    public func verify() throws(ExtentError) -> ExtentRunSummary {
        var cursor = makeCursor()
        while try cursor.next() != nil {}
        return summary
    }

    func makeCursor() -> ExtentRunCursor { ExtentRunCursor(run: self) }
}

/// The footer fields a reader needs after checking its CRC.
struct ExtentFooter {
    var indexOffset: Int
    var indexLength: Int
    var blockCount: UInt64
    var entryCount: UInt64
    var tombstoneCount: UInt64
    var minSeqno: Seqno
    var maxSeqno: Seqno
}

/// The checks that `ExtentRun.open` makes on a run's header, footer and index, in that order.
struct ExtentRunLayout {
    let file: String
    let bytes: [UInt8]

    /// Returns the run's generation.
    func checkHeader(repositoryID: RepositoryID) throws(ExtentError) -> UInt64 {
        guard bytes.starts(with: ExtentFormat.magic) else { throw .notAnExtentRun(file: file) }
        guard bytes.count >= ExtentFormat.headerBytes + ExtentFormat.footerBytes else {
            throw .truncated(file: file, byteCount: bytes.count)
        }
        let header = bytes[0..<ExtentFormat.headerBytes]
        try checkCRC(of: header.dropLast(4), storedAt: ExtentFormat.headerBytes - 4, region: .header, offset: 0)
        var reader = ByteReader(header.dropFirst(ExtentFormat.magic.count))
        let version = reader.read(UInt16.self)!
        guard version == ExtentFormat.version else { throw .unsupportedVersion(file: file, version: version) }
        let headerSize = reader.read(UInt16.self)!
        let flags = reader.read(UInt32.self)!
        guard headerSize == ExtentFormat.headerBytes, flags == 0 else {
            throw .corrupt(
                file: file, region: .header, offset: 10, detail: "header size \(headerSize) and flags \(flags), expected 64 and 0")
        }
        let found = RepositoryID(bytes: reader.readBytes(16)!)
        guard found == repositoryID else { throw .otherRepository(file: file, found: found, expected: repositoryID) }
        return reader.read(UInt64.self)!
    }

    func checkFooter() throws(ExtentError) -> ExtentFooter {
        let start = bytes.count - ExtentFormat.footerBytes
        guard bytes[(bytes.count - ExtentFormat.magic.count)...].elementsEqual(ExtentFormat.magic) else {
            throw .truncated(file: file, byteCount: bytes.count)
        }
        try checkCRC(of: bytes[start..<start + 60], storedAt: start + 60, region: .footer, offset: start)
        var reader = ByteReader(bytes[start..<start + 56])
        let footer = ExtentFooter(
            indexOffset: Int(clamping: reader.read(UInt64.self)!), indexLength: Int(clamping: reader.read(UInt64.self)!),
            blockCount: reader.read()!, entryCount: reader.read()!, tombstoneCount: reader.read()!,
            minSeqno: Seqno(reader.read()!), maxSeqno: Seqno(reader.read()!))
        if let problem = Self.inconsistency(of: footer, indexEnd: start) {
            throw .corrupt(file: file, region: .footer, offset: start, detail: problem)
        }
        return footer
    }

    private static func inconsistency(of footer: ExtentFooter, indexEnd: Int) -> String? {
        guard footer.indexOffset >= ExtentFormat.headerBytes, footer.indexOffset <= indexEnd,
            footer.indexLength == indexEnd - footer.indexOffset
        else { return "the index (offset \(footer.indexOffset), length \(footer.indexLength)) does not end where the footer begins" }
        guard (footer.blockCount == 0) == (footer.entryCount == 0), footer.blockCount <= footer.entryCount,
            footer.tombstoneCount <= footer.entryCount, footer.minSeqno <= footer.maxSeqno
        else {
            return "impossible totals: \(footer.blockCount) blocks, \(footer.entryCount) entries, \(footer.tombstoneCount) "
                + "tombstones, seqnos \(footer.minSeqno)...\(footer.maxSeqno)"
        }
        return nil
    }

    /// Reads the index: blocks back to back from the header to the index, first keys increasing.
    func checkIndex(_ footer: ExtentFooter) throws(ExtentError) -> [ExtentRun.BlockReference] {
        let index = bytes[footer.indexOffset..<footer.indexOffset + footer.indexLength]
        try checkCRC(of: index, storedAt: bytes.count - ExtentFormat.footerBytes + 56, region: .index, offset: footer.indexOffset)
        var reader = ByteReader(index)
        var blocks: [ExtentRun.BlockReference] = []
        var nextOffset = ExtentFormat.headerBytes
        for number in 0..<footer.blockCount {
            guard let block = Self.readBlockReference(&reader, expectedOffset: nextOffset, end: footer.indexOffset),
                blocks.last.map({ $0.firstKey.lexicographicallyPrecedes(block.firstKey) }) ?? true
            else {
                throw .corrupt(
                    file: file, region: .index, offset: reader.position,
                    detail: "the record of block \(number) is malformed, out of order, or not contiguous with the previous block")
            }
            blocks.append(block)
            nextOffset += block.length
        }
        guard reader.isAtEnd, nextOffset == footer.indexOffset else {
            throw .corrupt(
                file: file, region: .index, offset: reader.position,
                detail: "\(footer.blockCount) blocks end at byte \(nextOffset) with index bytes left unread, "
                    + "but the index starts at \(footer.indexOffset)")
        }
        return blocks
    }

    private static func readBlockReference(
        _ reader: inout ByteReader, expectedOffset: Int, end: Int
    ) -> ExtentRun.BlockReference? {
        guard let offset = reader.read(UInt64.self), let length = reader.read(UInt32.self),
            let keyLength = reader.read(UInt16.self), (1...TranlogLimits.maxKeyBytes).contains(Int(keyLength)),
            let firstKey = reader.readBytes(Int(keyLength)),
            offset == expectedOffset, length > ExtentFormat.blockHeaderBytes, Int(length) <= end - expectedOffset
        else { return nil }
        return ExtentRun.BlockReference(offset: Int(offset), length: Int(length), firstKey: Array(firstKey))
    }

    func checkCRC(of covered: ArraySlice<UInt8>, storedAt: Int, region: ExtentRegion, offset: Int) throws(ExtentError) {
        var reader = ByteReader(bytes[storedAt..<storedAt + 4])
        let stored = reader.read(UInt32.self)!
        let computed = Checksum.crc32(covered)
        guard stored == computed else {
            throw .corrupt(file: file, region: region, offset: offset, detail: "CRC mismatch (stored \(stored), computed \(computed))")
        }
    }
}
