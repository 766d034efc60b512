import Foundation
import SystemPackage
import Tranlog

/// A file of a pinned data directory: its path below the directory and how many of its bytes belong
/// to the copy (a tranlog's durable end at the time of the pin, not its current length).
public struct PinnedFile: Hashable, Sendable {
    public var path: String
    public var size: UInt64

    public init(path: String, size: UInt64) {
        self.path = path
        self.size = size
    }
}

/// A consistent file set of a running repository, held still for a base copy: checkpoints (and the
/// partial-logging removal that follows them) wait while any pin is held, so MANIFEST, the extents it
/// names and the tranlogs from its checkpoint on stay as listed; commits go on, appending past the
/// listed tranlog ends. What a copy of these bytes is: a data directory that recovers like the
/// primary after a crash at the pin (`backup snapshot` by another route). `release` is idempotent.
public final class CheckpointPin: @unchecked Sendable {
    public let files: [PinnedFile]
    /// The last durable commit when pinned: the copy holds at least this much.
    public let position: AppliedPosition
    public let repositoryID: RepositoryID
    private let lock = NSLock()
    private var released = false
    private let unpin: @Sendable () -> Void

    init(files: [PinnedFile], position: AppliedPosition, repositoryID: RepositoryID, unpin: @escaping @Sendable () -> Void) {
        self.files = files
        self.position = position
        self.repositoryID = repositoryID
        self.unpin = unpin
    }

    public func release() {
        let first = lock.withLock {
            defer { released = true }
            return !released
        }
        if first { unpin() }
    }
}

extension DataDirectory {
    /// Entries a copy of a running data directory leaves out: the lock belongs to the running process
    /// (a copy must start unlocked), and the known standbys are the primary's (like pg_basebackup
    /// skipping replication slots: a copy that becomes a standby, then a primary, must not keep logs
    /// for its old siblings), and so is a standby's offline or pause state (`standby.json`, which a
    /// promoted node may still hold if a crash came between its promote's commit point and the
    /// file's removal: the new standby would start offline or paused), and a synchronous primary's
    /// list of the standbys it told are required (`synchronous.json`: promoted, the copy would wait
    /// for standbys it never told anything). `restore.json` too when it
    /// only records that the node was promoted (a copy is meant to become a standby, which that
    /// record refuses).
    public func notCopied(fileSystem: any TranlogFileSystem = PosixFileSystem()) throws(RepositoryError) -> Set<String> {
        let always: Set<String> = [lockFile, pidFile, standbysFile, standbyControlFile, synchronousPinFile].map { $0.lastComponent!.string }.reduce(into: []) { $0.insert($1) }
        guard try Repository.promotion(of: self, fileSystem: fileSystem) != nil else { return always }
        return always.union([restoreStateFile.lastComponent!.string])
    }
}

extension Repository {
    /// Pins the current checkpoint for a copy (waiting for a checkpoint in progress) and lists what a
    /// copy needs: the top-level files but `notCopied`, every file in `extents/`, and the plain
    /// tranlogs from the checkpoint's oldest needed file through the durable end, the last one cut at
    /// that end (nothing a crash could still take back is copied).
    public func pinCheckpoint() throws(RepositoryError) -> CheckpointPin {
        let manifest = checkpointLock.withLock {
            checkpointPins += 1
            return self.manifest
        }
        let unpin: @Sendable () -> Void = { [self] in
            checkpointLock.withLock { checkpointPins -= 1 }
            logger.info("checkpoint pin released")
        }
        do {
            let position = stateLock.withLock { applied }
            let files = try pinnedFiles(oldestTranlog: manifest.oldestFileIDNeeded, durableEnd: recentFrames.durableEnd)
            logger.notice("checkpoint pinned for a copy", metadata: ["files": "\(files.count)", "position": "\(position)"])
            return CheckpointPin(files: files, position: position, repositoryID: config.repositoryID, unpin: unpin)
        } catch {
            unpin()
            throw error
        }
    }

    private func pinnedFiles(oldestTranlog: FileID, durableEnd: EventID?) throws(RepositoryError) -> [PinnedFile] {
        let excluded = try directory.notCopied(fileSystem: fileSystem)
        do throws(TranlogError) {
            var files: [PinnedFile] = []
            for name in try fileSystem.contentsOfDirectory(directory.root).sorted() where !excluded.contains(name) && !TransientFile.matches(name) {
                let path = directory.root.appending(name)
                // extents/, tranlogs/ (below) and scratch directories (an archive fetch's, say).
                if isDirectory(path) { continue }
                files.append(PinnedFile(path: name, size: try fileSystem.fileSize(path)))
            }
            for name in try fileSystem.contentsOfDirectory(directory.extents).sorted() {
                files.append(PinnedFile(path: "extents/" + name, size: try fileSystem.fileSize(directory.extents.appending(name))))
            }
            for file in try TranlogDirectory.scan(directory.tranlogs, fileSystem: fileSystem).files
            where !file.isCompressed && file.fileID >= oldestTranlog && (durableEnd.map { file.fileID <= $0.fileID } ?? true) {
                // The durable end cuts the file being written; an earlier file is whole.
                let size = durableEnd?.fileID == file.fileID ? durableEnd!.offset : try fileSystem.fileSize(file.path)
                files.append(PinnedFile(path: "tranlogs/" + file.path.lastComponent!.string, size: size))
            }
            return files
        } catch {
            throw .tranlog(error)
        }
    }

    /// A path that lists is a directory; a file that cannot be read fails later, by name, when copied.
    private func isDirectory(_ path: FilePath) -> Bool {
        do {
            _ = try fileSystem.contentsOfDirectory(path)
            return true
        } catch {
            return false
        }
    }
}
