import Foundation
import SystemPackage
import Tranlog

/// An in-memory `TranlogFileSystem` that knows which bytes and directory entries are durable, so a
/// test can simulate a crash or power loss at any moment and inject failed syncs and full disks.
///
/// A crash keeps everything synced and, for each file, some prefix of what was written but not
/// synced; a seeded choice garbles the end of that kept prefix, the way a torn sector write does.
/// Appends are sequential, so garbage never precedes intact unsynced data. A file whose creation
/// was not made durable by a directory sync may disappear.
public final class SimulatedFileSystem: TranlogFileSystem, @unchecked Sendable {
    private struct FileState {
        var contents: [UInt8] = []
        var durable: [UInt8] = []
        var entryDurable = false
        /// Set by a rename not yet made durable: where the file was, and the file it replaced.
        var undoRename: UndoRename?
    }

    private final class UndoRename {
        let previousPath: String
        let replaced: FileState?
        init(previousPath: String, replaced: FileState?) {
            self.previousPath = previousPath
            self.replaced = replaced
        }
    }

    private let lock = NSLock()
    private var files: [String: FileState] = [:]
    private var directories: Set<String> = []
    private var syncsBeforeFailure: Int?
    private var writableBytes: Int?
    private var heldLocks: Set<String> = []
    private var fileSyncs = 0
    private let syncGate = NSCondition()
    private var syncsPaused = false
    private var syncsWaiting = 0

    public init() {}

    /// Every `sync` after the next `count` ones fails with EIO.
    public func failSyncs(afterSuccessful count: Int) {
        lock.withLock { syncsBeforeFailure = count }
    }

    /// Writes beyond `bytes` more bytes fail with ENOSPC (a full disk).
    public func limitFreeSpace(to bytes: Int) {
        lock.withLock { writableBytes = bytes }
    }

    /// How many file syncs (`fdatasync`) have completed.
    public var fileSyncCount: Int { lock.withLock { fileSyncs } }

    /// Makes every file sync block until `resumeSyncs()`, so a test can hold a sync in flight.
    public func pauseSyncs() {
        syncGate.withLock { syncsPaused = true }
    }

    public func resumeSyncs() {
        syncGate.withLock {
            syncsPaused = false
            syncGate.broadcast()
        }
    }

    /// Blocks until `count` file syncs are waiting at the paused gate.
    public func waitForPausedSyncs(_ count: Int) {
        syncGate.withLock { while syncsWaiting < count { syncGate.wait() } }
    }

    /// The disk as a machine would find it after power loss now. `seed` makes it reproducible.
    public func crashed(seed: UInt64) -> SimulatedFileSystem {
        var random = SeededRandom(seed: seed)
        let survivor = SimulatedFileSystem()
        lock.withLock {
            survivor.directories = directories
            for (path, state) in files.sorted(by: { $0.key < $1.key }) {
                guard state.entryDurable || random.next() % 2 == 0 else {
                    // The directory change is lost: a created file vanishes, a rename is undone.
                    if let undo = state.undoRename {
                        survivor.files[undo.previousPath] = Self.afterCrash(state, random: &random)
                        if let replaced = undo.replaced { survivor.files[path] = Self.afterCrash(replaced, random: &random) }
                    }
                    continue
                }
                survivor.files[path] = Self.afterCrash(state, random: &random)
            }
        }
        return survivor
    }

    private static func afterCrash(_ state: FileState, random: inout SeededRandom) -> FileState {
        var contents = state.durable
        let unsynced = state.contents.count > state.durable.count && state.contents.starts(with: state.durable)
            ? Array(state.contents[state.durable.count...]) : []
        if !unsynced.isEmpty {
            let kept = Int(random.next() % UInt64(unsynced.count + 1))
            var tail = Array(unsynced[0..<kept])
            if kept > 0 && random.next() % 2 == 0 {
                let garbleFrom = Int(random.next() % UInt64(kept))
                for index in garbleFrom..<kept { tail[index] = UInt8(truncatingIfNeeded: random.next()) }
            }
            contents += tail
        }
        return FileState(contents: contents, durable: contents, entryDurable: true, undoRename: nil)
    }

    /// The current (not necessarily durable) contents of a file, for assertions.
    public func contents(of path: FilePath) -> [UInt8]? {
        lock.withLock { files[path.string]?.contents }
    }

    /// Copies every file under `source` to the same relative path under `target`, durably: what
    /// `cp -a` of a data directory does (an extent snapshot backup, when checkpoints are suspended).
    public func copyTree(from source: FilePath, to target: FilePath) {
        lock.withLock {
            let prefix = source.string + "/"
            for directory in directories where directory == source.string || directory.hasPrefix(prefix) {
                directories.insert(target.string + directory.dropFirst(source.string.count))
            }
            for (path, state) in files where path.hasPrefix(prefix) {
                let copy = target.string + path.dropFirst(source.string.count)
                files[copy] = FileState(contents: state.contents, durable: state.contents, entryDurable: true, undoRename: nil)
            }
        }
    }

    /// Replaces a file's contents outright (durably), for building damaged fixtures.
    public func overwrite(_ path: FilePath, with bytes: [UInt8]) {
        lock.withLock { files[path.string] = FileState(contents: bytes, durable: bytes, entryDurable: true, undoRename: nil) }
    }

    // MARK: - TranlogFileSystem

    public func contentsOfDirectory(_ path: FilePath) throws(TranlogError) -> [String] {
        try lock.locked { () throws(TranlogError) in
            guard directories.contains(path.string) else { throw .io(operation: "listing", path: path.string, errno: ENOENT) }
            return files.keys.compactMap { key in
                let file = FilePath(key)
                return file.removingLastComponent() == path ? file.lastComponent?.string : nil
            }
        }
    }

    public func readFile(_ path: FilePath) throws(TranlogError) -> [UInt8] {
        try lock.locked { () throws(TranlogError) in
            guard let state = files[path.string] else { throw .io(operation: "opening", path: path.string, errno: ENOENT) }
            return state.contents
        }
    }

    public func read(_ path: FilePath, at offset: UInt64, count: Int) throws(TranlogError) -> [UInt8] {
        let contents = try readFile(path)
        let start = min(Int(clamping: offset), contents.count)
        return Array(contents[start..<min(contents.count, start + count)])
    }

    public func fileExists(_ path: FilePath) -> Bool {
        lock.withLock { files[path.string] != nil }
    }

    public func createFile(_ path: FilePath, ownerOnly: Bool) throws(TranlogError) -> any AppendableFile {
        try lock.locked { () throws(TranlogError) in
            guard directories.contains(path.removingLastComponent().string) else {
                throw .io(operation: "opening", path: path.string, errno: ENOENT)
            }
            guard files[path.string] == nil else { throw .io(operation: "opening", path: path.string, errno: EEXIST) }
            files[path.string] = FileState()
        }
        return SimulatedFile(fileSystem: self, path: path.string)
    }

    public func openForAppend(_ path: FilePath) throws(TranlogError) -> any AppendableFile {
        guard fileExists(path) else { throw .io(operation: "opening", path: path.string, errno: ENOENT) }
        return SimulatedFile(fileSystem: self, path: path.string)
    }

    public func syncDirectory(_ path: FilePath) throws(TranlogError) {
        try consumeSync(path.string)
        lock.withLock {
            for key in files.keys where FilePath(key).removingLastComponent() == path {
                files[key]!.entryDurable = true
                files[key]!.undoRename = nil
            }
        }
    }

    public func removeFile(_ path: FilePath) throws(TranlogError) {
        try lock.locked { () throws(TranlogError) in
            guard files.removeValue(forKey: path.string) != nil else {
                throw .io(operation: "removing", path: path.string, errno: ENOENT)
            }
        }
    }

    /// The new name is durable only after a directory sync; until then a crash may undo the rename,
    /// bringing back the file it replaced.
    public func rename(_ source: FilePath, to target: FilePath) throws(TranlogError) {
        try lock.locked { () throws(TranlogError) in
            guard var state = files.removeValue(forKey: source.string) else {
                throw .io(operation: "renaming \(source.string) to", path: target.string, errno: ENOENT)
            }
            let replaced = files[target.string]
            state.undoRename = UndoRename(previousPath: source.string, replaced: replaced?.entryDurable == true ? replaced : nil)
            state.entryDurable = false
            files[target.string] = state
        }
    }

    public func createDirectory(_ path: FilePath) throws(TranlogError) {
        _ = lock.withLock { directories.insert(path.string) }
    }

    public func fileSize(_ path: FilePath) throws(TranlogError) -> UInt64 {
        guard fileExists(path) else { throw .io(operation: "reading the size of", path: path.string, errno: ENOENT) }
        return size(of: path.string)
    }

    public func lockExclusively(_ path: FilePath) throws(TranlogError) -> (any FileLock)? {
        lock.withLock { heldLocks.insert(path.string).inserted } ? SimulatedLock(fileSystem: self, path: path.string) : nil
    }

    fileprivate func release(_ path: String) {
        _ = lock.withLock { heldLocks.remove(path) }
    }

    // MARK: - Used by SimulatedFile

    fileprivate func size(of path: String) -> UInt64 {
        lock.withLock { UInt64(files[path]?.contents.count ?? 0) }
    }

    fileprivate func append(_ bytes: ArraySlice<UInt8>, to path: String) throws(TranlogError) {
        try lock.locked { () throws(TranlogError) in
            if let remaining = writableBytes {
                guard bytes.count <= remaining else { throw .io(operation: "writing", path: path, errno: ENOSPC) }
                writableBytes = remaining - bytes.count
            }
            files[path]?.contents.append(contentsOf: bytes)
        }
    }

    fileprivate func sync(_ path: String) throws(TranlogError) {
        syncGate.withLock {
            syncsWaiting += 1
            syncGate.broadcast()
            while syncsPaused { syncGate.wait() }
            syncsWaiting -= 1
        }
        try consumeSync(path)
        lock.withLock {
            fileSyncs += 1
            if let contents = files[path]?.contents { files[path]!.durable = contents }
        }
    }

    fileprivate func truncate(_ path: String, to size: UInt64) {
        lock.withLock { files[path]?.contents.removeSubrange(Int(size)...) }
    }

    private func consumeSync(_ path: String) throws(TranlogError) {
        try lock.locked { () throws(TranlogError) in
            guard let remaining = syncsBeforeFailure else { return }
            guard remaining > 0 else { throw .io(operation: "syncing", path: path, errno: EIO) }
            syncsBeforeFailure = remaining - 1
        }
    }
}

private final class SimulatedFile: AppendableFile {
    private let fileSystem: SimulatedFileSystem
    private let path: String

    init(fileSystem: SimulatedFileSystem, path: String) {
        self.fileSystem = fileSystem
        self.path = path
    }

    var size: UInt64 { fileSystem.size(of: path) }
    func append(_ bytes: ArraySlice<UInt8>) throws(TranlogError) { try fileSystem.append(bytes, to: path) }
    func sync() throws(TranlogError) { try fileSystem.sync(path) }
    func truncate(to size: UInt64) throws(TranlogError) { fileSystem.truncate(path, to: size) }
    func close() throws(TranlogError) {}
}

private final class SimulatedLock: FileLock {
    private let fileSystem: SimulatedFileSystem
    private let path: String

    init(fileSystem: SimulatedFileSystem, path: String) {
        self.fileSystem = fileSystem
        self.path = path
    }

    func unlock() { fileSystem.release(path) }
}

/// SplitMix64: a small, fast, reproducible generator for seeded tests.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

/// Seeds for a randomized test that runs once per seed: `UNDERSTUDY_SEED` replays exactly one,
/// `UNDERSTUDY_SOAK=1` runs `soak` of them (the long opt-in run), otherwise `ci` (kept short for CI).
public func testSeeds(ci: Int, soak: Int) -> [UInt64] {
    let environment = ProcessInfo.processInfo.environment
    if let fixed = environment["UNDERSTUDY_SEED"].flatMap(UInt64.init) { return [fixed] }
    var random = SeededRandom(seed: testSeed())
    return (0..<(environment["UNDERSTUDY_SOAK"] == "1" ? soak : ci)).map { _ in random.next() }
}

/// The seed for a randomized test: `UNDERSTUDY_SEED` to replay a failure, else a fresh one. Tests
/// print it so every failure can be reproduced.
public func testSeed() -> UInt64 {
    if let text = ProcessInfo.processInfo.environment["UNDERSTUDY_SEED"], let seed = UInt64(text) { return seed }
    return UInt64.random(in: 1...UInt64.max)
}
