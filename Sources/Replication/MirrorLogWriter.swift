import Logging
import SystemPackage
import Tranlog

/// Writes what a receiver validated into the standby's own tranlog directory, byte-identical to the
/// primary's files: same names, same offsets. Appends are buffered by the file system and made
/// durable by `sync()`, which the mirror writer (`MirrorWriterStage`) calls once per drained queue,
/// so many batches share one sync. A failed write or sync is fatal, as for the primary's writer: nothing is retried; the
/// mirror is opened anew (`open`, after `checkWritable`) once the operator fixed the disk.
///
/// The newest file is zero-filled ahead of its data (`zeroFillBytes` at a time, FORMATS' zero
/// tail), so most syncs overwrite zeros instead of growing the file: a growing file's sync also
/// records its new size and blocks, about twice the cost, and in synchronous replication the
/// standby's sync is part of every commit. Large messages (a standby catching up) grow the file
/// instead: see `growsPastZerosBytes`. A file is cut back to its data, durably, before the
/// next one is created: only the newest file may have a zero tail.
final class MirrorLogWriter {
    /// Zeros written ahead of the data when a batch would reach past them: a few thousand commits'
    /// worth, and small enough that cutting them at a promotion (which frees their blocks) stays
    /// well under a millisecond; 4 MiB took 1.5 ms.
    static let zeroFillBytes = 1 << 20
    /// Messages at least this large are written past the zeros, growing the file, with no fill:
    /// a standby catching up gets full 256 KiB batches, and filling ahead of them wrote every byte
    /// twice (zeros, then data) for a size update that is small beside the data its sync carries.
    /// Its mirror writer's CPU fell by about a third and its catch-up by about 8%. A caught-up
    /// standby's messages are a few KiB, far below.
    static let growsPastZerosBytes = 64 << 10

    private let directory: FilePath
    private let fileSystem: any TranlogFileSystem
    /// The newest file, written at the end of its data (over its zeros).
    private var file: (any AppendableFile)?
    private var path: FilePath?
    /// The newest file's size on disk: its data and the zeros after it.
    private var allocatedEnd: UInt64 = 0
    private(set) var hasUnsyncedBytes = false

    private init(directory: FilePath, fileSystem: any TranlogFileSystem) {
        self.directory = directory
        self.fileSystem = fileSystem
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
            return (MirrorLogWriter(directory: directory, fileSystem: fileSystem), validator)
        }
        var cursor = TranlogCursor(
            directory: TranlogDirectory(description: directory.string, files: [newest]), fileSystem: fileSystem,
            expectedRepository: repositoryID)
        // Headers only: the applier decodes the bodies (and names a bad one) when it replays them.
        var last: FrameHeader?
        while let header = try cursor.nextHeader() { last = header }
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
        guard let header = cursor.currentHeader else { preconditionFailure("a cursor that read a whole file knows its header") }
        let validator = StreamValidator(repositoryID: repositoryID, file: header, fileSize: cursor.endOfLastRecord, last: last)
        // Received records go where the data ends, over the zeros of a zero tail (this writer's, or
        // a running primary's, copied by a snapshot).
        let writer = MirrorLogWriter(directory: directory, fileSystem: fileSystem)
        try writer.continueFile(newest.path, dataEnd: cursor.endOfLastRecord)
        return (writer, validator)
    }

    /// Makes `path` the file appended to, from `dataEnd` on.
    private func continueFile(_ path: FilePath, dataEnd: UInt64) throws(TranlogError) {
        allocatedEnd = try fileSystem.fileSize(path)
        file = try fileSystem.openForOverwrite(path, at: dataEnd)
        self.path = path
    }

    /// Creates the next file from the primary's header bytes. The previous file is synced and closed
    /// first, and the new file's header and directory entry are durable before any record goes in,
    /// as the primary's writer does.
    func startFile(_ header: FileHeader, bytes: [UInt8]) throws(TranlogError) {
        try closeCurrentFile()
        let path = directory.appending(header.fileID.fileName)
        let created = try fileSystem.createFile(path)
        try created.append(bytes[...])
        try created.sync()
        try created.close()
        try fileSystem.syncDirectory(directory)
        try continueFile(path, dataEnd: UInt64(bytes.count))
    }

    /// The mirror's file of `fileID`.
    func fileRef(_ fileID: FileID) -> TranlogFileRef {
        TranlogFileRef(fileID: fileID, path: directory.appending(fileID.fileName))
    }

    func append(_ frames: [UInt8]) throws(TranlogError) {
        guard let file, let path else { preconditionFailure("frames are validated against a file before they are written") }
        let end = file.size + UInt64(frames.count)
        if end > allocatedEnd {
            if frames.count >= Self.growsPastZerosBytes {
                allocatedEnd = end
            } else {
                try zeroFill(path, through: end + UInt64(Self.zeroFillBytes))
            }
        }
        try file.append(frames[...])
        hasUnsyncedBytes = true
    }

    /// The zeros a fill appends, allocated once: a fresh megabyte per fill cost a page fault per page.
    private static let zeros = [UInt8](repeating: 0, count: 1 << 20)

    /// Appends zeros to `path` until it is `size` long, through a handle of their own (the data's
    /// handle writes at the data's end). The next sync makes them durable with the data: a sync
    /// covers the whole file, whichever handle wrote.
    private func zeroFill(_ path: FilePath, through size: UInt64) throws(TranlogError) {
        let extending = try fileSystem.openForAppend(path)
        do throws(TranlogError) {
            while extending.size < size {
                try extending.append(Self.zeros[..<Int(min(UInt64(Self.zeros.count), size - extending.size))])
            }
        } catch {
            try? extending.close()
            throw error
        }
        try extending.close()
        allocatedEnd = size
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
        defer { forgetFile() }
        try file?.close()
    }

    /// Cuts the newest file back to its data, durably: the node is about to write its own log after
    /// it (a promotion), where only the newest file may go on with zeros. Appends may follow; they
    /// zero-fill again.
    func cutZeroTail() throws(TranlogError) {
        guard let file, allocatedEnd > file.size else { return }
        try file.truncate(to: file.size)
        try file.sync()
        hasUnsyncedBytes = false
        allocatedEnd = file.size
    }

    /// Syncs and closes the newest file, cut back to its data first: it is about to stop being the
    /// newest.
    func closeCurrentFile() throws(TranlogError) {
        try sync()
        try cutZeroTail()
        try file?.close()
        forgetFile()
    }

    private func forgetFile() {
        file = nil
        path = nil
        allocatedEnd = 0
    }
}
