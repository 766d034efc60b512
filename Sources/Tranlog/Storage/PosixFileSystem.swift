import Foundation
import SystemPackage

/// The real file system, through POSIX calls. `sync()` is `fdatasync`: the writer's durability
/// promise rests on it, so its failure is never retried or ignored.
public struct PosixFileSystem: TranlogFileSystem {
    public init() {}

    public func contentsOfDirectory(_ path: FilePath) throws(TranlogError) -> [String] {
        LoopThreadFiles.check("listing", path.string)
        guard let directory = opendir(path.string) else { throw .io(operation: "listing", path: path.string, errno: errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Reads into one buffer of the file's size. Growing an array chunk by chunk reallocated it at
    /// each doubling: a 64 MiB tranlog took 127 MiB of fresh memory, each page of it a fault, and
    /// was copied twice more on its way. A file that grew after its size was taken is read on to
    /// its end.
    public func readFile(_ path: FilePath) throws(TranlogError) -> [UInt8] {
        let descriptor = try open(path, .readOnly, options: [])
        defer { try? descriptor.close() }
        var info = stat()
        guard fstat(descriptor.rawValue, &info) == 0 else { throw .io(operation: "reading the size of", path: path.string, errno: errno) }
        var contents = try readUpTo(Int(info.st_size), from: descriptor, at: 0, path)
        guard contents.count == Int(info.st_size) else { return contents }
        while true {
            let more = try readUpTo(1 << 16, from: descriptor, at: Int64(contents.count), path)
            if more.isEmpty { return contents }
            contents += more
        }
    }

    public func read(_ path: FilePath, at offset: UInt64, count: Int) throws(TranlogError) -> [UInt8] {
        let descriptor = try open(path, .readOnly, options: [])
        defer { try? descriptor.close() }
        return try readUpTo(count, from: descriptor, at: Int64(offset), path)
    }

    /// Up to `count` bytes from `offset`, fewer where the file ends first; read into the array's own
    /// storage, never zero-filled first.
    private func readUpTo(_ count: Int, from descriptor: FileDescriptor, at offset: Int64, _ path: FilePath) throws(TranlogError) -> [UInt8] {
        try call("reading", path) {
            try [UInt8](unsafeUninitializedCapacity: count) { buffer, filled in
                filled = 0
                while filled < count {
                    let got = try descriptor.read(
                        fromAbsoluteOffset: offset + Int64(filled), into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[filled...])))
                    if got == 0 { break }
                    filled += got
                }
            }
        }
    }

    public func fileExists(_ path: FilePath) -> Bool {
        LoopThreadFiles.check("looking for", path.string)
        return FileManager.default.fileExists(atPath: path.string)
    }

    public func fileSize(_ path: FilePath) throws(TranlogError) -> UInt64 {
        LoopThreadFiles.check("reading the size of", path.string)
        var info = stat()
        guard stat(path.string, &info) == 0 else { throw .io(operation: "reading the size of", path: path.string, errno: errno) }
        return UInt64(info.st_size)
    }

    public func createFile(_ path: FilePath, ownerOnly: Bool) throws(TranlogError) -> any AppendableFile {
        let permissions: FilePermissions = ownerOnly ? [.ownerReadWrite] : [.ownerReadWrite, .groupRead, .otherRead]
        let descriptor = try open(path, .writeOnly, options: [.create, .exclusiveCreate, .append], permissions: permissions)
        return PosixAppendableFile(descriptor: descriptor, path: path, size: 0)
    }

    public func openForAppend(_ path: FilePath) throws(TranlogError) -> any AppendableFile {
        let descriptor = try open(path, .writeOnly, options: [.append])
        let size = try call("sizing", path) { try descriptor.seek(offset: 0, from: .end) }
        return PosixAppendableFile(descriptor: descriptor, path: path, size: UInt64(size))
    }

    public func openForOverwrite(_ path: FilePath, at offset: UInt64) throws(TranlogError) -> any AppendableFile {
        let descriptor = try open(path, .writeOnly, options: [])
        return PosixAppendableFile(descriptor: descriptor, path: path, size: offset)
    }

    public func syncDirectory(_ path: FilePath) throws(TranlogError) {
        let descriptor = try open(path, .readOnly, options: [.directory])
        defer { try? descriptor.close() }
        guard fsync(descriptor.rawValue) == 0 else { throw .io(operation: "syncing directory", path: path.string, errno: errno) }
    }

    public func removeFile(_ path: FilePath) throws(TranlogError) {
        LoopThreadFiles.check("removing", path.string)
        guard unlink(path.string) == 0 else { throw .io(operation: "removing", path: path.string, errno: errno) }
    }

    public func removeDirectory(_ path: FilePath) throws(TranlogError) {
        LoopThreadFiles.check("removing directory", path.string)
        guard rmdir(path.string) == 0 else { throw .io(operation: "removing directory", path: path.string, errno: errno) }
    }

    public func rename(_ source: FilePath, to target: FilePath) throws(TranlogError) {
        LoopThreadFiles.check("renaming \(source.string) to", target.string)
        guard Glibc.rename(source.string, target.string) == 0 else {
            throw .io(operation: "renaming \(source.string) to", path: target.string, errno: errno)
        }
    }

    public func createDirectory(_ path: FilePath) throws(TranlogError) {
        LoopThreadFiles.check("creating directory", path.string)
        guard mkdir(path.string, 0o755) == 0 || errno == EEXIST else {
            throw .io(operation: "creating directory", path: path.string, errno: errno)
        }
    }

    /// `flock(LOCK_EX | LOCK_NB)`: released by `unlock()` or when the process dies, even by `kill -9`.
    public func lockExclusively(_ path: FilePath) throws(TranlogError) -> (any FileLock)? {
        let descriptor = try open(path, .readWrite, options: [.create, .closeOnExec])
        guard flock(descriptor.rawValue, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            try? descriptor.close()
            if busy { return nil }
            throw .io(operation: "locking", path: path.string, errno: errno)
        }
        return PosixFileLock(descriptor: descriptor)
    }

    private func open(
        _ path: FilePath, _ mode: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions,
        permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]
    ) throws(TranlogError) -> FileDescriptor {
        LoopThreadFiles.check("opening", path.string)
        return try call("opening", path) { try FileDescriptor.open(path, mode, options: options, permissions: permissions) }
    }
}

/// Runs a swift-system call, turning its `Errno` into a `TranlogError` naming the operation and path.
func call<Value>(_ operation: String, _ path: FilePath, _ body: () throws -> Value) throws(TranlogError) -> Value {
    do {
        return try body()
    } catch let error as Errno {
        throw .io(operation: operation, path: path.string, errno: error.rawValue)
    } catch {
        throw .io(operation: operation, path: path.string, errno: EIO)
    }
}

final class PosixFileLock: FileLock {
    private let descriptor: FileDescriptor

    init(descriptor: FileDescriptor) { self.descriptor = descriptor }

    func unlock() { try? descriptor.close() }
}

final class PosixAppendableFile: AppendableFile {
    private let descriptor: FileDescriptor
    private let path: FilePath
    private(set) var size: UInt64

    init(descriptor: FileDescriptor, path: FilePath, size: UInt64) {
        self.descriptor = descriptor
        self.path = path
        self.size = size
    }

    func append(_ bytes: ArraySlice<UInt8>) throws(TranlogError) {
        LoopThreadFiles.check("writing", path.string)
        // Positioned, for files opened over a preallocated segment; Linux ignores the offset of a
        // file opened with O_APPEND and appends, where `size` is anyway.
        let written = try call("writing", path) { try bytes.withUnsafeBytes { try descriptor.writeAll(toAbsoluteOffset: Int64(size), $0) } }
        size += UInt64(written)
    }

    func sync() throws(TranlogError) {
        LoopThreadFiles.check("syncing", path.string)
        guard fdatasync(descriptor.rawValue) == 0 else { throw .io(operation: "syncing", path: path.string, errno: errno) }
    }

    func truncate(to newSize: UInt64) throws(TranlogError) {
        guard ftruncate(descriptor.rawValue, off_t(newSize)) == 0 else {
            throw .io(operation: "truncating", path: path.string, errno: errno)
        }
        size = newSize
    }

    func close() throws(TranlogError) {
        try call("closing", path) { try descriptor.close() }
    }
}
