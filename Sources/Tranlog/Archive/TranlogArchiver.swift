import SystemPackage

/// Archives completed tranlogs one at a time, oldest first, into an `ArchiveLocation`.
///
/// Into a directory: as `tranlogN.dbf.gz`, atomically: the compressed copy is written under a
/// temporary name in the archive directory, synced, renamed to its final name and the directory
/// synced. A crash or a failure at any step leaves no file under the final name (at most the
/// temporary one, which the next pass removes), so a name present in the archive always holds a
/// complete, durable copy. A file counts as archived when its name (`tranlogN.dbf.gz`, or a plain
/// `tranlogN.dbf` an operator copied in) is present: an archived file is never rewritten, and its
/// content is not re-read on each pass (that would decompress the whole archive every time;
/// `understudy tranlog verify DIR` checks it on demand, and a warm standby checks every record it applies).
///
/// Through a command: the command gets the plain file (`%p`, `%f` = `tranlogN.dbf`). A store behind
/// a command cannot be listed, so what is archived is what the node recorded (`DATA/archive.json`,
/// the first file not archived yet): files are archived in fileId order, so one fileId says it all.
/// A crash after the command succeeded and before the record runs it again for that file: commands
/// must accept storing the same file twice.
public struct TranlogArchiver: Sendable {
    public let source: FilePath
    public let destination: ArchiveLocation
    public let fileSystem: any TranlogFileSystem
    /// Bytes read and compressed at a time, so the compressed copy is never in memory whole.
    static let chunkBytes = 1 << 20

    public init(source: FilePath, destination: ArchiveLocation, fileSystem: any TranlogFileSystem = PosixFileSystem()) {
        self.source = source
        self.destination = destination
        self.fileSystem = fileSystem
    }

    /// The temporary name a copy is written under: not a tranlog name, so neither the archiver nor a
    /// reader of the archive (restore, warm standby) ever takes it for a log.
    public static func temporaryName(_ fileID: FileID) -> String { fileID.fileName + ".gz.tmp" }

    public static func archivedName(_ fileID: FileID) -> String { fileID.fileName + ".gz" }

    /// What is archived and what is not yet. Completed files are those below `openFileID` (the
    /// file the writer appends to) followed by a later file on disk: the writer creates the next
    /// file only after syncing and closing the previous one, so a file with a successor is whole
    /// even while a rotation is still in flight. `recorded` is the first file not archived by the
    /// node's own record (`DATA/archive.json`), which is all a command destination has.
    public func survey(openFileID: FileID, recorded: FileID = .first) throws(TranlogError) -> ArchiveSurvey {
        let local = try TranlogDirectory.scan(source, fileSystem: fileSystem).files.filter { !$0.isCompressed }
        let (isArchived, newestArchived) = try archived(recorded: recorded)
        let backlog = local.dropLast().filter { $0.fileID < openFileID && !isArchived($0.fileID) }
        return ArchiveSurvey(
            backlog: Array(backlog), newestArchived: newestArchived,
            firstUnarchived: backlog.first?.fileID ?? min(local.last?.fileID ?? openFileID, openFileID))
    }

    /// Which fileIds the destination holds, and the highest of them.
    private func archived(recorded: FileID) throws(TranlogError) -> (@Sendable (FileID) -> Bool, FileID?) {
        switch destination {
        case .directory(let archive):
            let names = Set(try fileSystem.contentsOfDirectory(archive).compactMap { name in
                name.hasSuffix(".dbf") || name.hasSuffix(".dbf.gz") ? FileID(fileName: name) : nil
            })
            return ({ names.contains($0) }, names.max())
        case .command:
            return ({ $0 < recorded }, recorded > .first ? FileID(recorded.rawValue - 1) : nil)
        }
    }

    /// Removes temporary copies left by a crash or a failed pass. Only names this archiver writes.
    public func removeLeftovers() throws(TranlogError) {
        guard case .directory(let archive) = destination else { return }
        for name in try fileSystem.contentsOfDirectory(archive) where name.hasSuffix(".dbf.gz.tmp") {
            try fileSystem.removeFile(archive.appending(name))
        }
    }

    /// Archives one file.
    public func archive(_ ref: TranlogFileRef) throws(TranlogError) {
        switch destination {
        case .directory(let archive): try copy(ref, into: archive)
        case .command(let command): try command.run(path: ref.path, fileName: ref.fileID.fileName)
        }
    }

    /// On failure the temporary copy is removed (best effort: the next pass removes it otherwise)
    /// and the final name is never created.
    private func copy(_ ref: TranlogFileRef, into archive: FilePath) throws(TranlogError) {
        let temporary = archive.appending(Self.temporaryName(ref.fileID))
        if fileSystem.fileExists(temporary) { try fileSystem.removeFile(temporary) }
        do {
            try writeCompressed(ref.path, to: temporary)
            try fileSystem.rename(temporary, to: archive.appending(Self.archivedName(ref.fileID)))
            try fileSystem.syncDirectory(archive)
        } catch {
            if fileSystem.fileExists(temporary) { try? fileSystem.removeFile(temporary) }
            throw error
        }
    }

    /// Streams `path` through gzip into a new file and syncs it.
    private func writeCompressed(_ path: FilePath, to temporary: FilePath) throws(TranlogError) {
        let file = try fileSystem.createFile(temporary)
        do {
            let compressor = GzipStreamCompressor()
            var offset: UInt64 = 0
            while true {
                let chunk = try fileSystem.read(path, at: offset, count: Self.chunkBytes)
                offset += UInt64(chunk.count)
                let final = chunk.count < Self.chunkBytes
                try file.append(compressor.compress(chunk[...], final: final)[...])
                if final { break }
            }
            try file.sync()
            try file.close()
        } catch {
            try? file.close()
            throw error
        }
    }
}

/// One look at the source and the archive.
public struct ArchiveSurvey: Sendable {
    /// Completed files not archived yet, oldest first.
    public var backlog: [TranlogFileRef]
    /// The highest fileId present in the archive.
    public var newestArchived: FileID?
    /// Every file below this one is archived (or was never completed here): what partial logging may remove.
    public var firstUnarchived: FileID
}
