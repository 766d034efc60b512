import Logging
import SystemPackage
import Tranlog

/// Writes what a receiver validated into the standby's own tranlog directory, byte-identical to the
/// primary's files: same names, same offsets. Appends are buffered by the file system and made
/// durable by `sync()`, which the mirror writer (`MirrorWriterStage`) calls once per drained queue,
/// so many batches share one sync. A failed write or sync is fatal, as for the primary's writer: nothing is retried; the
/// mirror is opened anew (`open`, after `checkWritable`) once the operator fixed the disk.
final class MirrorLogWriter {
    private let directory: FilePath
    private let fileSystem: any TranlogFileSystem
    private var file: (any AppendableFile)?
    private(set) var hasUnsyncedBytes = false

    private init(directory: FilePath, fileSystem: any TranlogFileSystem, file: (any AppendableFile)?) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.file = file
    }

    /// Opens the mirror: finds its newest file and last whole record, cutting off a torn tail (a crash
    /// mid-append; nothing in it was acknowledged as flushed). Returns the writer and the validator
    /// positioned at the mirror's end; an empty mirror's validator starts at `emptyPosition`.
    static func open(
        directory: FilePath, fileSystem: any TranlogFileSystem, repositoryID: RepositoryID,
        emptyPosition: (seqno: Seqno, crc: UInt32), logger: Logger
    ) throws(TranlogError) -> (MirrorLogWriter, StreamValidator) {
        let files = try TranlogDirectory.scan(directory, fileSystem: fileSystem).files.filter { !$0.isCompressed }
        guard let newest = files.last else {
            let validator = StreamValidator(repositoryID: repositoryID, emptyAt: emptyPosition.seqno, crc: emptyPosition.crc)
            return (MirrorLogWriter(directory: directory, fileSystem: fileSystem, file: nil), validator)
        }
        var cursor = TranlogCursor(
            directory: TranlogDirectory(description: directory.string, files: [newest]), fileSystem: fileSystem,
            expectedRepository: repositoryID)
        var last: TranlogRecord?
        while let record = try cursor.next() { last = record }
        if let torn = cursor.tornTail {
            logger.warning("cutting off the mirror's \(torn)")
            if torn.offset == 0 {
                try fileSystem.removeFile(newest.path)
                try fileSystem.syncDirectory(directory)
                return try open(directory: directory, fileSystem: fileSystem, repositoryID: repositoryID, emptyPosition: emptyPosition, logger: logger)
            }
            let damaged = try fileSystem.openForAppend(newest.path)
            try damaged.truncate(to: torn.offset)
            try damaged.sync()
            try damaged.close()
        }
        // A copy of a running primary's directory keeps the zero tail of its newest file: received
        // records go where its data ends.
        try ZeroTail.cut(newest.path, at: cursor.endOfLastRecord, fileSystem: fileSystem)
        guard let header = cursor.currentHeader else { preconditionFailure("a cursor that read a whole file knows its header") }
        let validator = StreamValidator(repositoryID: repositoryID, file: header, fileSize: cursor.endOfLastRecord, last: last)
        return (MirrorLogWriter(directory: directory, fileSystem: fileSystem, file: try fileSystem.openForAppend(newest.path)), validator)
    }

    /// Creates the next file from the primary's header bytes. The previous file is synced and closed
    /// first, and the new file's header and directory entry are durable before any record goes in,
    /// as the primary's writer does.
    func startFile(_ header: FileHeader, bytes: [UInt8]) throws(TranlogError) {
        try closeCurrentFile()
        let created = try fileSystem.createFile(directory.appending(header.fileID.fileName))
        try created.append(bytes[...])
        try created.sync()
        try fileSystem.syncDirectory(directory)
        file = created
    }

    /// The mirror's file of `fileID`.
    func fileRef(_ fileID: FileID) -> TranlogFileRef {
        TranlogFileRef(fileID: fileID, path: directory.appending(fileID.fileName))
    }

    func append(_ frames: [UInt8]) throws(TranlogError) {
        guard let file else { preconditionFailure("frames are validated against a file before they are written") }
        try file.append(frames[...])
        hasUnsyncedBytes = true
    }

    func sync() throws(TranlogError) {
        guard hasUnsyncedBytes, let file else { return }
        try file.sync()
        hasUnsyncedBytes = false
    }

    /// Bytes written and synced in `directory` by `checkWritable`: room for a few record batches.
    static let writableCheckBytes = 1 << 20

    /// Writes, syncs and removes a scratch file of `writableCheckBytes` in `directory`: a disk that
    /// was full or failing takes it only once it was freed or repaired.
    static func checkWritable(directory: FilePath, fileSystem: any TranlogFileSystem) throws(TranlogError) {
        let scratch = directory.appending(".mirror-writable-check")
        if fileSystem.fileExists(scratch) { try fileSystem.removeFile(scratch) }
        let file = try fileSystem.createFile(scratch)
        var failure: TranlogError?
        do throws(TranlogError) {
            try file.append([UInt8](repeating: 0, count: writableCheckBytes)[...])
            try file.sync()
        } catch {
            failure = error
        }
        do throws(TranlogError) { try file.close() } catch { failure = failure ?? error }
        // Removed whatever happened: the check leaves nothing behind on a full disk.
        try fileSystem.removeFile(scratch)
        if let failure { throw failure }
    }

    /// Closes the file of a mirror whose write or sync failed, without syncing it again.
    func abandon() throws(TranlogError) {
        defer { file = nil }
        try file?.close()
    }

    func closeCurrentFile() throws(TranlogError) {
        try sync()
        try file?.close()
        file = nil
    }
}
