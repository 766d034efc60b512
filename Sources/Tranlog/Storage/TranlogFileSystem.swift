import Glibc
import SystemPackage

/// The file operations the tranlog needs, so tests can substitute a file system that simulates
/// crashes (dropping or garbling unsynced writes), failed syncs and full disks.
public protocol TranlogFileSystem: Sendable {
    /// Names (not paths) of the entries in a directory.
    func contentsOfDirectory(_ path: FilePath) throws(TranlogError) -> [String]
    func readFile(_ path: FilePath) throws(TranlogError) -> [UInt8]
    /// Up to `count` bytes from `offset` (fewer at the end of the file, none past it): for tailing a
    /// file that is still being written without rereading it whole.
    func read(_ path: FilePath, at offset: UInt64, count: Int) throws(TranlogError) -> [UInt8]
    func fileExists(_ path: FilePath) -> Bool
    /// The size of a file in bytes (what retention and purge count).
    func fileSize(_ path: FilePath) throws(TranlogError) -> UInt64
    /// Creates a new file (failing if it exists) open for appending; `ownerOnly` makes it mode 0600
    /// from the start (secrets such as the admin token are never readable by others, even briefly).
    func createFile(_ path: FilePath, ownerOnly: Bool) throws(TranlogError) -> any AppendableFile
    /// Opens an existing file for appending at its end.
    func openForAppend(_ path: FilePath) throws(TranlogError) -> any AppendableFile
    /// Opens an existing file for writing from `offset` on, over what is there (a preallocated,
    /// zero-filled tranlog segment): each append writes where the previous one ended, and the file
    /// does not grow until an append passes its end.
    func openForOverwrite(_ path: FilePath, at offset: UInt64) throws(TranlogError) -> any AppendableFile
    /// Makes the creation, removal or renaming of entries in `path` durable.
    func syncDirectory(_ path: FilePath) throws(TranlogError)
    func removeFile(_ path: FilePath) throws(TranlogError)
    /// Removes an empty directory (`rmdir`: ENOTEMPTY otherwise); durable after `syncDirectory` of its parent.
    func removeDirectory(_ path: FilePath) throws(TranlogError)
    /// Renames atomically, replacing `target` if it exists (durable after `syncDirectory`).
    func rename(_ source: FilePath, to target: FilePath) throws(TranlogError)
    func createDirectory(_ path: FilePath) throws(TranlogError)
    /// Takes an exclusive lock on `path` (created if absent), held until `unlock()` or process exit;
    /// nil when another process (or handle) holds it.
    func lockExclusively(_ path: FilePath) throws(TranlogError) -> (any FileLock)?
}

/// A held exclusive lock.
public protocol FileLock: AnyObject {
    func unlock()
}

/// A file being appended to. Not shared between threads: the writer's flush thread owns it.
public protocol AppendableFile: AnyObject {
    /// Where the next append writes: the end of the file, or for a file opened with
    /// `openForOverwrite` the end of what was written into it.
    var size: UInt64 { get }
    func append(_ bytes: ArraySlice<UInt8>) throws(TranlogError)
    /// `fdatasync`: returns only when everything appended so far is durable.
    func sync() throws(TranlogError)
    func truncate(to size: UInt64) throws(TranlogError)
    func close() throws(TranlogError)
}

extension TranlogFileSystem {
    public func createFile(_ path: FilePath) throws(TranlogError) -> any AppendableFile {
        try createFile(path, ownerOnly: false)
    }

    /// Replaces a file atomically and durably: a temporary file is written and synced, renamed over
    /// the target, and the directory synced. A crash leaves either the old or the new contents.
    public func replaceFile(_ path: FilePath, contents: ArraySlice<UInt8>) throws(TranlogError) {
        let temporary = FilePath(path.string + TransientFile.temporarySuffix)
        if fileExists(temporary) { try removeFile(temporary) }
        let file = try createFile(temporary)
        try file.append(contents)
        try file.sync()
        try file.close()
        try rename(temporary, to: path)
        try syncDirectory(path.removingLastComponent())
    }

    /// Makes the entry of `path` itself durable (its creation, or a rename to it): syncs the
    /// directory holding it, `.` for a bare name.
    public func syncParentDirectory(of path: FilePath) throws(TranlogError) {
        let parent = path.removingLastComponent()
        try syncDirectory(parent.isEmpty ? FilePath(".") : parent)
    }

    /// Removes `path` and, if it is a directory, everything in it (`rm -r`), for directories this
    /// program made (it does not expect symbolic links in them). Durable after the parent's sync.
    public func removeTree(_ path: FilePath) throws(TranlogError) {
        let names: [String]
        do { names = try contentsOfDirectory(path) } catch {
            guard case .io(_, _, ENOTDIR) = error else { throw error }
            return try removeFile(path)
        }
        for name in names { try removeTree(path.appending(name)) }
        try removeDirectory(path)
    }

    /// Writes a whole new file and makes it durable, entry included.
    public func writeNewFile(_ path: FilePath, contents: ArraySlice<UInt8>, ownerOnly: Bool = false) throws(TranlogError) {
        let file = try createFile(path, ownerOnly: ownerOnly)
        try file.append(contents)
        try file.sync()
        try file.close()
        try syncDirectory(path.removingLastComponent())
    }
}
