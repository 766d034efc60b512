import SystemPackage
import Tranlog

/// A backup being written: the part being filled, the block being built, and the chain CRC and
/// object count that run across parts. It lists every file it creates, so a failure can delete them.
struct BackupWriteSession {
    private let description: BackupDescription
    private let targets: [BackupTarget]
    private let compress: Bool
    private let fileSystem: any TranlogFileSystem
    private var parts: [BackupPartFile] = []
    private var block = BackupBlockBuilder()
    private var chainCRC: UInt32 = 0
    private var objectCount: UInt64 = 0
    private var lastKey: [UInt8]?

    init(description: BackupDescription, targets: [BackupTarget], compress: Bool, fileSystem: any TranlogFileSystem) {
        self.description = description
        self.targets = targets
        self.compress = compress
        self.fileSystem = fileSystem
    }

    mutating func start() throws(TranlogError) {
        try startPart()
    }

    /// Adds the next object; keys must come in increasing order (a programmer error otherwise).
    mutating func add(key: [UInt8], object: StoredObject) throws(TranlogError) {
        precondition((1...TranlogLimits.maxKeyBytes).contains(key.count), "backup key of \(key.count) bytes")
        precondition(object.value.count <= TranlogLimits.maxValueBytes, "backup value of \(object.value.count) bytes")
        precondition(lastKey.map { $0.lexicographicallyPrecedes(key) } ?? true, "backup keys must be sorted and unique")
        precondition(object.seqno <= description.position.seqno, "object seqno \(object.seqno) is after the backup's position")
        lastKey = key
        block.add(key: key, object: object)
        if block.isFull { try writeBlock() }
    }

    /// Writes the last block and the final trailer, and makes every file and its entry durable.
    mutating func finish() throws(TranlogError) -> BackupSummary {
        if !block.isEmpty { try writeBlock() }
        try endPart(final: true)
        for directory in Set(parts.map { BackupWriter.directory(of: $0.path) }) { try fileSystem.syncDirectory(directory) }
        return BackupSummary(
            files: parts.map(\.path.string), objectCount: Int(objectCount), byteCount: parts.reduce(0) { $0 + $1.byteCount },
            uncompressedBytes: parts.reduce(0) { $0 + $1.uncompressedBytes }, position: description.position)
    }

    /// After a failure: closes and deletes every file created; returns those that could not be deleted.
    func abandon() -> [String] {
        parts.last?.closeQuietly()
        return parts.compactMap { part in
            do throws(TranlogError) {
                try fileSystem.removeFile(part.path)
                return nil
            } catch {
                return part.path.string
            }
        }
    }

    private mutating func startPart() throws(TranlogError) {
        let target = targets[parts.count]
        parts.append(try BackupPartFile(creating: target.path, compress: compress, fileSystem: fileSystem))
        try parts[parts.count - 1].append(BackupPartHeader(partIndex: parts.count - 1, description: description).encode())
    }

    private mutating func endPart(final: Bool) throws(TranlogError) {
        let trailer = BackupPartTrailer(isFinal: final, objectCount: objectCount, chainCRC: chainCRC)
        try parts[parts.count - 1].finish(with: trailer.encode())
    }

    private mutating func writeBlock() throws(TranlogError) {
        if let limit = targets[parts.count - 1].limitBytes, parts[parts.count - 1].byteCount >= limit {
            try endPart(final: false)
            try startPart()
        }
        objectCount += UInt64(block.entryCount)
        try parts[parts.count - 1].append(block.take(chainingFrom: &chainCRC))
    }
}

/// One backup file being written: its content goes to disk as is or through gzip, and it counts the
/// bytes that reach the disk (what a target's limit measures).
final class BackupPartFile {
    let path: FilePath
    private let file: any AppendableFile
    private let compressor: GzipStreamCompressor?
    private var isOpen = true
    private(set) var byteCount: UInt64 = 0
    private(set) var uncompressedBytes: UInt64 = 0

    init(creating path: FilePath, compress: Bool, fileSystem: any TranlogFileSystem) throws(TranlogError) {
        self.path = path
        self.file = try fileSystem.createFile(path)
        self.compressor = compress ? GzipStreamCompressor(level: BackupFormat.gzipLevel) : nil
    }

    func append(_ content: [UInt8]) throws(TranlogError) {
        try write(content, final: false)
    }

    /// Appends the trailer, ends the gzip stream, syncs and closes the file.
    func finish(with trailer: [UInt8]) throws(TranlogError) {
        try write(trailer, final: true)
        try file.sync()
        isOpen = false
        try file.close()
    }

    /// Closes a file being abandoned; its content no longer matters.
    func closeQuietly() {
        guard isOpen else { return }
        isOpen = false
        try? file.close()
    }

    private func write(_ content: [UInt8], final: Bool) throws(TranlogError) {
        let bytes = compressor?.compress(content[...], final: final) ?? content
        try file.append(bytes[...])
        byteCount += UInt64(bytes.count)
        uncompressedBytes += UInt64(content.count)
    }
}
