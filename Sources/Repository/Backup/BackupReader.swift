import SystemPackage
import Tranlog

/// Reads a full backup from its files, given in the order written. Files are read one at a time
/// (each whole, as the file systems read files; a compressed one is gunzipped a piece at a time).
public struct BackupReader: Sendable {
    public let description: BackupDescription
    private let paths: [FilePath]
    private let fileSystem: any TranlogFileSystem

    /// Opens a backup, checking each file's header (CRC, backup id, part number in the order given)
    /// and that the last file is the backup's final part; compressed or not is detected per file.
    public static func open(_ paths: [FilePath], fileSystem: any TranlogFileSystem) throws(BackupError) -> BackupReader {
        guard !paths.isEmpty else { throw .noFiles }
        var description: BackupDescription?
        for (part, path) in paths.enumerated() {
            var content = try content(of: path, part: part, fileSystem: fileSystem)
            let header = try readHeader(from: &content, expecting: description, firstFile: paths[0].string)
            description = header.description
            if part == paths.count - 1 { try checkFinal(&content) }
        }
        return BackupReader(description: description!, paths: paths, fileSystem: fileSystem)
    }

    /// Streams every object in key order, verifying each block before handing out its objects, and
    /// the trailers' counts and CRCs. Objects already handed out when an error is thrown came from
    /// intact blocks, but the backup as a whole is unusable: a restore must discard them.
    public func forEachObject(_ body: (_ key: [UInt8], _ object: StoredObject) throws(BackupError) -> Void) throws(BackupError) {
        _ = try scan(body)
    }

    /// Reads every byte and checks every checksum without keeping anything (the manual's
    /// `copydbf file /dev/null`).
    public func verify() throws(BackupError) -> BackupSummary {
        try scan { (_, _) throws(BackupError) in }
    }

    private func scan(_ body: (_ key: [UInt8], _ object: StoredObject) throws(BackupError) -> Void) throws(BackupError) -> BackupSummary {
        var scanner = BackupPartScanner(position: description.position)
        var byteCount: UInt64 = 0
        var uncompressedBytes: UInt64 = 0
        for (part, path) in paths.enumerated() {
            var content = try Self.content(of: path, part: part, fileSystem: fileSystem)
            _ = try Self.readHeader(from: &content, expecting: description, firstFile: paths[0].string)
            try scanner.scanSections(of: &content, isLast: part == paths.count - 1, body: body)
            byteCount += content.fileByteCount
            uncompressedBytes += content.offset
        }
        return BackupSummary(
            files: paths.map(\.string), objectCount: Int(scanner.objectCount), byteCount: byteCount, uncompressedBytes: uncompressedBytes,
            position: description.position)
    }

    private static func content(of path: FilePath, part: Int, fileSystem: any TranlogFileSystem) throws(BackupError) -> BackupContent {
        do throws(TranlogError) {
            return BackupContent(file: path.string, part: part, bytes: try fileSystem.readFile(path))
        } catch {
            throw .unreadable(file: path.string, part: part, cause: error)
        }
    }

    /// Reads a part's header and checks that it is the expected part of the expected backup (the
    /// first file's, when there is one).
    private static func readHeader(
        from content: inout BackupContent, expecting first: BackupDescription?, firstFile: String
    ) throws(BackupError) -> BackupPartHeader {
        let header = try BackupPartHeader.read(from: &content)
        if let first, header.description.backupID != first.backupID {
            throw .otherBackup(file: content.file, found: header.description.backupID, expected: first.backupID, firstFile: firstFile)
        }
        guard header.partIndex == content.part else {
            throw .wrongPart(file: content.file, found: header.partIndex, expected: content.part)
        }
        return header
    }

    /// Checks, from its trailer alone, that the last file given ends the backup.
    private static func checkFinal(_ content: inout BackupContent) throws(BackupError) {
        let (bytes, offset) = try content.skipToEnd(keepingLast: BackupFormat.trailerBytes)
        guard let trailer = BackupPartTrailer.decode(bytes) else {
            throw .truncated(
                file: content.file, part: content.part, offset: offset + UInt64(bytes.count),
                detail: "without a valid trailer (or with its last bytes damaged)")
        }
        guard trailer.isFinal else { throw .notFinalPart(file: content.file, part: content.part) }
    }
}

/// Reads the blocks and trailer of each part in turn, carrying the chain CRC, object count and key
/// order from part to part.
struct BackupPartScanner {
    private let position: AppliedPosition
    private var chainCRC: UInt32 = 0
    private(set) var objectCount: UInt64 = 0
    private var lastKey: [UInt8]?

    init(position: AppliedPosition) {
        self.position = position
    }

    /// Reads the sections after the header, handing out each block's objects once it is verified.
    mutating func scanSections(
        of content: inout BackupContent, isLast: Bool, body: (_ key: [UInt8], _ object: StoredObject) throws(BackupError) -> Void
    ) throws(BackupError) {
        var blockNumber = 0
        while true {
            let offset = content.offset
            let section = blockNumber == 0 ? "the header" : "block \(blockNumber - 1)"
            let kind = try content.read(1, inside: "the section after \(section) (a block or the trailer)").first!
            switch BackupFormat.SectionKind(rawValue: kind) {
            case .block:
                for entry in try readBlock(blockNumber, at: offset, from: &content) {
                    try body(entry.key, StoredObject(key: entry.key, value: entry.value!, seqno: entry.seqno))
                }
                blockNumber += 1
            case .trailer:
                return try readTrailer(at: offset, from: &content, isLast: isLast)
            case nil:
                throw content.corrupt(.block(blockNumber), at: offset, "kind \(kind) is neither a block (1) nor the trailer (2)")
            }
        }
    }

    private mutating func readBlock(_ number: Int, at offset: UInt64, from content: inout BackupContent) throws(BackupError) -> [ExtentEntry] {
        // Captures the names, not the content: a copy of it would make every later read copy its buffer.
        let corrupt = { [file = content.file, part = content.part] (detail: String) -> BackupError in
            .corrupt(file: file, part: part, region: .block(number), offset: offset, detail: detail)
        }
        let fields = try content.read(BackupFormat.blockHeaderBytes - 1, inside: "block \(number)")
        var reader = ByteReader(fields)
        let entryCount = Int(reader.read(UInt32.self)!), dataLength = Int(reader.read(UInt32.self)!), stored = reader.read(UInt32.self)!
        let fieldsCRC = Checksum.crc32(fields.prefix(8), seed: Checksum.crc32([BackupFormat.SectionKind.block.rawValue], seed: chainCRC))
        guard dataLength <= BackupFormat.maxBlockBytes else { throw corrupt("a data length of \(dataLength) bytes is impossible") }
        let data = try content.read(dataLength, inside: "block \(number)")
        let computed = Checksum.crc32(data, seed: fieldsCRC)
        guard stored == computed else {
            throw corrupt("CRC mismatch (stored \(stored), computed \(computed)): the block is damaged, or one before it is missing")
        }
        chainCRC = computed
        guard entryCount >= 1, entryCount <= dataLength / (ExtentFormat.entryFixedBytes + 1) else {
            throw corrupt("\(entryCount) entries cannot fit its \(dataLength) bytes")
        }
        return try decodeEntries(data, count: entryCount, corrupt: corrupt)
    }

    private mutating func decodeEntries(
        _ data: ArraySlice<UInt8>, count: Int, corrupt: (String) -> BackupError
    ) throws(BackupError) -> [ExtentEntry] {
        let position = position
        let decoded = ExtentEntryCoding.decodeBlock(data, count: count, after: &lastKey) { entry in
            if entry.isTombstone { return "is a tombstone, which a backup never holds" }
            if entry.seqno > position.seqno { return "has seqno \(entry.seqno), after the backup's position \(position.seqno)" }
            return nil
        }
        switch decoded {
        case .success(let entries):
            objectCount += UInt64(count)
            return entries
        case .failure(let defect):
            throw corrupt(defect.detail)
        }
    }

    private func readTrailer(at offset: UInt64, from content: inout BackupContent, isLast: Bool) throws(BackupError) {
        let rest = try content.read(BackupFormat.trailerBytes - 1, inside: "the trailer")
        guard let trailer = BackupPartTrailer.decode([BackupFormat.SectionKind.trailer.rawValue] + rest) else {
            throw content.corrupt(.trailer, at: offset, "CRC mismatch or an invalid final flag")
        }
        guard trailer.objectCount == objectCount, trailer.chainCRC == chainCRC else {
            throw content.corrupt(
                .trailer, at: offset,
                "the blocks so far hold \(objectCount) objects with chain CRC \(chainCRC), but the trailer declares "
                    + "\(trailer.objectCount) with \(trailer.chainCRC): a block is missing")
        }
        guard trailer.isFinal == isLast else {
            if isLast { throw .notFinalPart(file: content.file, part: content.part) }
            throw content.corrupt(.trailer, at: offset, "it says this is the backup's last part, but more files were given")
        }
        guard try content.isAtEnd() else {
            throw content.corrupt(.trailer, at: offset + UInt64(BackupFormat.trailerBytes), "bytes follow the trailer")
        }
    }
}
