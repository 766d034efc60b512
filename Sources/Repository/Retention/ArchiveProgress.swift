import Foundation
import SystemPackage
import Tranlog

/// How far the archiver has copied the tranlogs (`--archive-dir` or `--archive-command`): a retention reason like recovery's
/// or a standby's. Until the archiver's first pass every file is needed, afterwards the files from
/// the oldest one not yet archived. Without an archive nothing is held back.
///
/// Kept in `DATA/archive.json` as it advances, so `tranlog purge` on a stopped node knows which files
/// are not archived yet, and an archive command (whose store cannot be listed) knows where it is; a node
/// started without an archive removes it (no archive holds files).
public final class ArchiveProgress: @unchecked Sendable {
    private struct Stored: Codable {
        var firstUnarchived: FileID
    }

    private let lock = NSLock()
    private let directory: DataDirectory
    private let fileSystem: any TranlogFileSystem
    /// Files from this one on are kept; nil: no archive holds them back.
    private var keptFrom: FileID?

    /// Call with the data directory locked.
    init(archiving: Bool, directory: DataDirectory, fileSystem: any TranlogFileSystem) throws(RepositoryError) {
        self.directory = directory
        self.fileSystem = fileSystem
        if archiving {
            keptFrom = try Self.persisted(directory, fileSystem: fileSystem) ?? FileID(0)
        } else if fileSystem.fileExists(Self.path(directory)) {
            do { try fileSystem.removeFile(Self.path(directory)) } catch { throw .tranlog(error) }
        }
    }

    /// Called by the archiver after each pass: every file below `fileID` is archived.
    public func archived(below fileID: FileID) throws(RepositoryError) {
        let changed = lock.withLock {
            defer { keptFrom = fileID }
            return keptFrom != fileID
        }
        guard changed else { return }
        do {
            try fileSystem.replaceFile(Self.path(directory), contents: JSONCoding.encode(Stored(firstUnarchived: fileID))[...])
        } catch {
            throw .tranlog(error)
        }
    }

    /// The first file not archived yet (it and every later one must stay); nil without an archive.
    public var needsFrom: FileID? {
        lock.withLock { keptFrom }
    }

    /// What the last archiving node recorded: for a stopped node's purge.
    static func persisted(_ directory: DataDirectory, fileSystem: any TranlogFileSystem) throws(RepositoryError) -> FileID? {
        let path = path(directory)
        guard fileSystem.fileExists(path) else { return nil }
        let bytes: [UInt8]
        do { bytes = try fileSystem.readFile(path) } catch { throw .tranlog(error) }
        guard let stored = try? JSONDecoder().decode(Stored.self, from: Data(bytes)) else {
            throw .dataDirectory(path: directory.root.string, problem: "\(path.string) is corrupt; it records which tranlogs are archived")
        }
        return stored.firstUnarchived
    }

    static func path(_ directory: DataDirectory) -> FilePath { directory.root.appending("archive.json") }
}

extension Repository {
    /// The tranlog file the writer appends to; nil in restore mode (no writer) or once closed.
    public var openTranlogFileID: FileID? {
        commitLock.withLock { writer?.currentFileID }
    }
}
