import Foundation
import SystemPackage
import Tranlog

/// An in-memory `TranlogFileSystem` that knows which bytes and directory entries are durable, so a
/// test can simulate a crash or power loss at any moment and inject failed syncs, failed reads and
/// full disks.
///
/// **Contents.** A crash keeps everything synced and, for each file, some prefix of what was
/// written but not synced; a seeded choice garbles the end of that kept prefix, the way a torn
/// sector write does. Appends are sequential, so garbage never precedes intact unsynced data. Writes
/// over existing bytes (`openForOverwrite`, a preallocated segment) are sequential too: the unsynced
/// part runs from the first byte that differs from the synced contents, and what a crash does not
/// keep of it reads as the synced bytes beneath (the zeros of a preallocated segment).
///
/// **Directory entries.** Creating, removing or renaming a file, and creating or removing a
/// directory, change the directory only until a crash: each change becomes durable when its
/// directory is synced (`syncDirectory`); a rename, when *both* its directories are (one for a rename
/// within a directory). A crash keeps or undoes each change not yet durable, a seeded choice per
/// change (a rename as one unit: the file is under the old name or the new one, never both or
/// neither); a directory whose creation is undone takes everything in it along.
///
/// **Fixtures.** Directories one or two levels under `/` (`/node`, `/node/data`), and the missing
/// ancestors a fixture helper (`createDirectory` of a path whose parent is missing, `overwrite`,
/// `copyTree`) creates on the way, are durable at once: they stand for the disk the test set up,
/// which nobody syncs. A directory deeper down (`/node/data/tranlogs`) is durable once its parent
/// is synced, so put what is under test deep enough to check that its parent is synced.
///
/// **Crashing at a chosen step.** File syncs, directory syncs and renames are *durable steps*,
/// counted from 1. `crash(afterDurableStep: n)` stops the world once step `n` completes: every later
/// operation that can fail fails (EIO; `fileExists` and `contents(of:)` still answer), so the code
/// under test unwinds and changes nothing more. Then
/// `crashed(seed:)` is the disk after power loss at that instant (see `CrashStepHarness`).
public final class SimulatedFileSystem: TranlogFileSystem, @unchecked Sendable {
    private struct FileNode {
        var contents: [UInt8] = []
        var durable: [UInt8] = []
    }

    private enum Entry: Hashable {
        case file(Int)
        case directory(Int)
    }

    /// The entries a crash would keep (`durable`) and those seen now (`current`).
    private struct DirectoryNode {
        var current: [String: Entry] = [:]
        var durable: [String: Entry] = [:]
    }

    /// A name in a directory.
    private struct Slot: Hashable {
        let directory: Int
        let name: String
    }

    /// A rename not yet durable: it waits for a sync of each directory in `unsynced`.
    private struct PendingRename {
        let source: Slot
        let target: Slot
        var unsynced: Set<Int>
    }

    private static let rootDirectory = 0
    /// Directories this close to `/` stand for the disk a test set up (`/node`, `/node/data`).
    private static let fixtureDepth = 2

    private let lock = NSLock()
    private var fileNodes: [Int: FileNode] = [:]
    private var directoryNodes: [Int: DirectoryNode] = [rootDirectory: DirectoryNode()]
    private var nextNode = 1
    private var pendingRenames: [PendingRename] = []
    private var syncsBeforeFailure: Int?
    private var syncsAttempted = 0
    private var writableBytes: Int?
    private var readFailure: (matches: @Sendable (FilePath) -> Bool, errno: Int32)?
    private var heldLocks: Set<String> = []
    private var fileSyncs = 0
    private var fileReads = 0
    private var durableSteps = 0
    private var crashAfterStep: Int?
    private let syncGate = NSCondition()
    private var syncsPaused = false
    /// Which files' syncs a pause holds (by path); nil: every file's.
    private var pausedPaths: (@Sendable (String) -> Bool)?
    private var syncsWaiting = 0

    public init() {}

    // MARK: - Fault injection

    /// Every `sync` (file or directory) after the next `count` ones fails with EIO.
    public func failSyncs(afterSuccessful count: Int) {
        lock.withLock { syncsBeforeFailure = count }
    }

    /// Syncs succeed again (the disk recovered, or the test goes on past the failure).
    public func stopFailingSyncs() {
        lock.withLock { syncsBeforeFailure = nil }
    }

    /// A full disk after `bytes` more bytes: the append that crosses the limit writes the bytes that
    /// fit (they land in the file, unsynced), then fails with ENOSPC; later appends write nothing.
    public func limitFreeSpace(to bytes: Int) {
        lock.withLock { writableBytes = bytes }
    }

    /// Reads (`readFile`, `read`) of every path `matches` accepts fail with `errno`, until
    /// `stopFailingReads()`. Replaces an earlier rule.
    public func failReads(where matches: @escaping @Sendable (FilePath) -> Bool, errno: Int32 = EIO) {
        lock.withLock { readFailure = (matches, errno) }
    }

    /// Reads of `path` fail with `errno` (EIO: a bad sector), until `stopFailingReads()`.
    public func failReads(of path: FilePath, errno: Int32 = EIO) {
        failReads(where: { $0 == path }, errno: errno)
    }

    public func stopFailingReads() {
        lock.withLock { readFailure = nil }
    }

    /// How many times a file's contents were read (`readFile`, `read`).
    public var fileReadCount: Int { lock.withLock { fileReads } }

    /// How many file syncs (`fdatasync`) have completed.
    public var fileSyncCount: Int { lock.withLock { fileSyncs } }

    /// How many syncs, of files and directories, were asked for (the ones `failSyncs` counts).
    public var syncsAttemptedCount: Int { lock.withLock { syncsAttempted } }

    /// How many durable steps (file syncs, directory syncs, renames) have completed.
    public var durableStepCount: Int { lock.withLock { durableSteps } }

    /// Stops the world once `step` durable steps have completed (0: now): from then on every
    /// operation fails with EIO and changes nothing, like a machine that lost power.
    public func crash(afterDurableStep step: Int) {
        precondition(step >= 0, "durable steps count from 1; 0 stops the world at once")
        lock.withLock { crashAfterStep = step }
    }

    /// True once the world stopped (`crash(afterDurableStep:)` reached its step).
    public var hasCrashed: Bool { lock.withLock { stoppedLocked } }

    /// Makes every file sync (with `only`, of the files whose path it accepts) block until
    /// `resumeSyncs()`, so a test can hold a sync in flight.
    public func pauseSyncs(only paths: (@Sendable (String) -> Bool)? = nil) {
        syncGate.withLock {
            syncsPaused = true
            pausedPaths = paths
        }
    }

    public func resumeSyncs() {
        syncGate.withLock {
            syncsPaused = false
            pausedPaths = nil
            syncGate.broadcast()
        }
    }

    /// Blocks until `count` file syncs are waiting at the paused gate; false if they were not
    /// within `seconds` (the work meant to reach the gate ended or took another path), so that a
    /// test fails instead of hanging. Generous by default: a loaded CI machine can take tens of
    /// seconds to schedule a thread, and a test that went on early would test something else.
    public func waitForPausedSyncs(_ count: Int, seconds: Double = 120) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        return syncGate.withLock {
            while syncsWaiting < count { guard syncGate.wait(until: deadline) else { return syncsWaiting >= count } }
            return true
        }
    }

    // MARK: - Power loss

    /// The disk as a machine would find it after power loss now. `seed` makes it reproducible.
    public func crashed(seed: UInt64) -> SimulatedFileSystem {
        var random = SeededRandom(seed: seed)
        let survivor = SimulatedFileSystem()
        lock.withLock {
            let kept = keptEntries(random: &random)
            var copied: [Int: FileNode] = [:]
            survivor.copySurviving(directory: Self.rootDirectory, into: Self.rootDirectory, from: self, kept: kept, copied: &copied, random: &random)
        }
        return survivor
    }

    /// For every directory, the entries a crash leaves: the durable ones, and each change not yet
    /// durable kept or undone by one seeded choice per change (both names of a rename together).
    private func keptEntries(random: inout SeededRandom) -> [Int: [String: Entry]] {
        var groupOf: [Slot: Int] = [:]
        for (index, rename) in pendingRenames.enumerated() {
            let group = groupOf[rename.source] ?? groupOf[rename.target] ?? index
            let merged = [groupOf[rename.source], groupOf[rename.target]].compactMap { $0 }
            for (slot, other) in groupOf where merged.contains(other) { groupOf[slot] = group }
            groupOf[rename.source] = group
            groupOf[rename.target] = group
        }
        var keepGroup: [Int: Bool] = [:]
        var kept: [Int: [String: Entry]] = [:]
        for (id, directory) in directoryNodes.sorted(by: { $0.key < $1.key }) {
            var entries = directory.durable
            for name in Set(directory.current.keys).union(directory.durable.keys).sorted()
            where directory.current[name] != directory.durable[name] {
                let keep: Bool
                if let group = groupOf[Slot(directory: id, name: name)] {
                    keep = keepGroup[group] ?? (random.next() % 2 == 0)
                    keepGroup[group] = keep
                } else {
                    keep = random.next() % 2 == 0
                }
                if keep { entries[name] = directory.current[name] }
            }
            kept[id] = entries
        }
        return kept
    }

    private func copySurviving(
        directory: Int, into target: Int, from crashing: SimulatedFileSystem, kept: [Int: [String: Entry]], copied: inout [Int: FileNode],
        random: inout SeededRandom
    ) {
        for (name, entry) in (kept[directory] ?? [:]).sorted(by: { $0.key < $1.key }) {
            switch entry {
            case .file(let id):
                let node = copied[id] ?? Self.afterCrash(crashing.fileNodes[id]!, random: &random)
                copied[id] = node
                addDurably(name, .file(insertFile(node)), in: target)
            case .directory(let id):
                let child = insertDirectory()
                addDurably(name, .directory(child), in: target)
                copySurviving(directory: id, into: child, from: crashing, kept: kept, copied: &copied, random: &random)
            }
        }
    }

    private static func afterCrash(_ state: FileNode, random: inout SeededRandom) -> FileNode {
        var contents = state.durable
        // An unsynced truncation is undone: the synced contents stay.
        let common = min(state.contents.count, state.durable.count)
        let unsyncedStart = (0..<common).first { state.contents[$0] != state.durable[$0] } ?? common
        let unsynced = Array(state.contents[unsyncedStart...])
        if !unsynced.isEmpty {
            let kept = Int(random.next() % UInt64(unsynced.count + 1))
            var tail = Array(unsynced[0..<kept])
            if kept > 0 && random.next() % 2 == 0 {
                let garbleFrom = Int(random.next() % UInt64(kept))
                for index in garbleFrom..<kept { tail[index] = UInt8(truncatingIfNeeded: random.next()) }
            }
            let replaced = unsyncedStart..<min(unsyncedStart + kept, contents.count)
            contents.replaceSubrange(replaced, with: tail)
        }
        return FileNode(contents: contents, durable: contents)
    }

    // MARK: - Fixtures and assertions

    /// The current (not necessarily durable) contents of a file, for assertions.
    public func contents(of path: FilePath) -> [UInt8]? {
        lock.withLock {
            guard case .file(let id) = resolve(path) else { return nil }
            return fileNodes[id]!.contents
        }
    }

    /// Copies every file under `source` to the same relative path under `target`, durably: what
    /// `cp -a` of a data directory does (an extent snapshot backup, when checkpoints are suspended).
    public func copyTree(from source: FilePath, to target: FilePath) {
        lock.withLock {
            guard case .directory(let from) = resolve(source) else { return }
            copyDurably(directory: from, into: fixtureDirectory(target))
        }
    }

    private func copyDurably(directory: Int, into target: Int) {
        for (name, entry) in directoryNodes[directory]!.current {
            switch entry {
            case .file(let id):
                let contents = fileNodes[id]!.contents
                addDurably(name, .file(insertFile(FileNode(contents: contents, durable: contents))), in: target)
            case .directory(let id):
                let child = insertDirectory()
                addDurably(name, .directory(child), in: target)
                copyDurably(directory: id, into: child)
            }
        }
    }

    /// Replaces a file's contents outright (durably, entry included), for building damaged fixtures.
    public func overwrite(_ path: FilePath, with bytes: [UInt8]) {
        lock.withLock {
            let directory = fixtureDirectory(path.removingLastComponent())
            addDurably(path.lastComponent!.string, .file(insertFile(FileNode(contents: bytes, durable: bytes))), in: directory)
        }
    }

    // MARK: - TranlogFileSystem

    public func contentsOfDirectory(_ path: FilePath) throws(TranlogError) -> [String] {
        try lock.locked { () throws(TranlogError) in
            try checkRunning("listing", path)
            switch resolve(path) {
            case .directory(let id): return Array(directoryNodes[id]!.current.keys)
            case .file: throw .io(operation: "listing", path: path.string, errno: ENOTDIR)
            case nil: throw .io(operation: "listing", path: path.string, errno: ENOENT)
            }
        }
    }

    public func readFile(_ path: FilePath) throws(TranlogError) -> [UInt8] {
        try lock.locked { () throws(TranlogError) in
            try checkRunning("reading", path)
            fileReads += 1
            if let failure = readFailure, failure.matches(path) { throw .io(operation: "reading", path: path.string, errno: failure.errno) }
            switch resolve(path) {
            case .file(let id): return fileNodes[id]!.contents
            case .directory: throw .io(operation: "reading", path: path.string, errno: EISDIR)
            case nil: throw .io(operation: "opening", path: path.string, errno: ENOENT)
            }
        }
    }

    public func read(_ path: FilePath, at offset: UInt64, count: Int) throws(TranlogError) -> [UInt8] {
        let contents = try readFile(path)
        let start = min(Int(clamping: offset), contents.count)
        return Array(contents[start..<min(contents.count, start + count)])
    }

    public func fileExists(_ path: FilePath) -> Bool {
        lock.withLock { resolve(path) != nil }
    }

    public func createFile(_ path: FilePath, ownerOnly: Bool) throws(TranlogError) -> any AppendableFile {
        let id = try lock.locked { () throws(TranlogError) in
            try checkRunning("creating", path)
            let (directory, name) = try parentSlot(path, operation: "opening")
            guard directoryNodes[directory]!.current[name] == nil else { throw .io(operation: "opening", path: path.string, errno: EEXIST) }
            let id = insertFile(FileNode())
            directoryNodes[directory]!.current[name] = .file(id)
            return id
        }
        return SimulatedFile(fileSystem: self, path: path.string, node: id)
    }

    public func openForAppend(_ path: FilePath) throws(TranlogError) -> any AppendableFile {
        let id = try lock.locked { () throws(TranlogError) in
            try checkRunning("opening", path)
            guard case .file(let id) = resolve(path) else { throw .io(operation: "opening", path: path.string, errno: ENOENT) }
            return id
        }
        return SimulatedFile(fileSystem: self, path: path.string, node: id)
    }

    public func openForOverwrite(_ path: FilePath, at offset: UInt64) throws(TranlogError) -> any AppendableFile {
        let id = try lock.locked { () throws(TranlogError) in
            try checkRunning("opening", path)
            guard case .file(let id) = resolve(path) else { throw .io(operation: "opening", path: path.string, errno: ENOENT) }
            return id
        }
        return SimulatedFile(fileSystem: self, path: path.string, node: id, position: offset)
    }

    /// Makes the changes to `path`'s entries durable, but for renames still waiting for their
    /// other directory's sync.
    public func syncDirectory(_ path: FilePath) throws(TranlogError) {
        try consumeSync(path.string)
        try lock.locked { () throws(TranlogError) in
            try checkRunning("syncing directory", path)
            guard case .directory(let id) = resolve(path) else { throw .io(operation: "syncing directory", path: path.string, errno: ENOENT) }
            var waiting: Set<Slot> = []
            for index in pendingRenames.indices { pendingRenames[index].unsynced.remove(id) }
            for rename in pendingRenames {
                if rename.unsynced.isEmpty {
                    makeDurable(rename.source)
                    makeDurable(rename.target)
                } else {
                    waiting.formUnion([rename.source, rename.target])
                }
            }
            pendingRenames.removeAll { $0.unsynced.isEmpty }
            let directory = directoryNodes[id]!
            for name in Set(directory.current.keys).union(directory.durable.keys) where !waiting.contains(Slot(directory: id, name: name)) {
                makeDurable(Slot(directory: id, name: name))
            }
            durableSteps += 1
        }
    }

    public func removeFile(_ path: FilePath) throws(TranlogError) {
        try lock.locked { () throws(TranlogError) in
            try checkRunning("removing", path)
            let (directory, name) = try parentSlot(path, operation: "removing")
            switch directoryNodes[directory]!.current[name] {
            case .file: directoryNodes[directory]!.current[name] = nil
            case .directory: throw .io(operation: "removing", path: path.string, errno: EISDIR)
            case nil: throw .io(operation: "removing", path: path.string, errno: ENOENT)
            }
        }
    }

    public func removeDirectory(_ path: FilePath) throws(TranlogError) {
        try lock.locked { () throws(TranlogError) in
            try checkRunning("removing directory", path)
            let (directory, name) = try parentSlot(path, operation: "removing directory")
            guard case .directory(let id) = directoryNodes[directory]!.current[name] else {
                throw .io(operation: "removing directory", path: path.string, errno: ENOENT)
            }
            guard directoryNodes[id]!.current.isEmpty else { throw .io(operation: "removing directory", path: path.string, errno: ENOTEMPTY) }
            directoryNodes[directory]!.current[name] = nil
        }
    }

    /// Renames a file or directory (replacing a file, or an empty directory, at `target`). Durable
    /// once both directories are synced; a crash before that may undo it, bringing back what it replaced.
    public func rename(_ source: FilePath, to target: FilePath) throws(TranlogError) {
        try lock.locked { () throws(TranlogError) in
            let operation = "renaming \(source.string) to"
            try checkRunning(operation, target)
            let (fromDirectory, fromName) = try parentSlot(source, operation: operation)
            let (toDirectory, toName) = try parentSlot(target, operation: operation)
            guard let moving = directoryNodes[fromDirectory]!.current[fromName] else {
                throw .io(operation: operation, path: target.string, errno: ENOENT)
            }
            if case .directory(let replaced) = directoryNodes[toDirectory]!.current[toName], !directoryNodes[replaced]!.current.isEmpty {
                throw .io(operation: operation, path: target.string, errno: ENOTEMPTY)
            }
            directoryNodes[fromDirectory]!.current[fromName] = nil
            directoryNodes[toDirectory]!.current[toName] = moving
            pendingRenames.append(PendingRename(
                source: Slot(directory: fromDirectory, name: fromName), target: Slot(directory: toDirectory, name: toName),
                unsynced: [fromDirectory, toDirectory]))
            durableSteps += 1
        }
    }

    /// `mkdir`, an existing directory being fine (as `PosixFileSystem` ignores EEXIST). Durable once
    /// the parent is synced, but for fixtures (see the type's comment): a missing parent is created,
    /// durably, like `mkdir -p`.
    public func createDirectory(_ path: FilePath) throws(TranlogError) {
        try lock.locked { () throws(TranlogError) in
            try checkRunning("creating directory", path)
            guard let name = path.lastComponent?.string else { return }
            let parentPath = path.removingLastComponent()
            guard case .directory(let parent) = resolve(parentPath) else {
                _ = fixtureDirectory(path)
                return
            }
            switch directoryNodes[parent]!.current[name] {
            case .directory: return
            case .file: throw .io(operation: "creating directory", path: path.string, errno: EEXIST)
            case nil:
                let id = insertDirectory()
                if path.components.count <= Self.fixtureDepth {
                    addDurably(name, .directory(id), in: parent)
                } else {
                    directoryNodes[parent]!.current[name] = .directory(id)
                }
            }
        }
    }

    public func fileSize(_ path: FilePath) throws(TranlogError) -> UInt64 {
        try lock.locked { () throws(TranlogError) in
            try checkRunning("reading the size of", path)
            guard case .file(let id) = resolve(path) else { throw .io(operation: "reading the size of", path: path.string, errno: ENOENT) }
            return UInt64(fileNodes[id]!.contents.count)
        }
    }

    public func lockExclusively(_ path: FilePath) throws(TranlogError) -> (any FileLock)? {
        try lock.locked { () throws(TranlogError) in
            try checkRunning("locking", path)
            return heldLocks.insert(path.string).inserted ? SimulatedLock(fileSystem: self, path: path.string) : nil
        }
    }

    fileprivate func release(_ path: String) {
        _ = lock.withLock { heldLocks.remove(path) }
    }

    // MARK: - Used by SimulatedFile

    fileprivate func size(of node: Int) -> UInt64 {
        lock.withLock { UInt64(fileNodes[node]!.contents.count) }
    }

    /// Writes at `offset` (nil: at the end), over existing bytes and then growing the file; the free
    /// space limit counts only bytes that grow it.
    fileprivate func write(_ bytes: ArraySlice<UInt8>, to node: Int, at offset: UInt64?, path: String) throws(TranlogError) {
        try lock.locked { () throws(TranlogError) in
            try checkRunning("writing", FilePath(path))
            let start = offset.map { Int($0) } ?? fileNodes[node]!.contents.count
            precondition(start <= fileNodes[node]!.contents.count, "a write past the end of \(path) would leave a hole")
            let overwritten = min(bytes.count, fileNodes[node]!.contents.count - start)
            fileNodes[node]!.contents.replaceSubrange(start..<start + overwritten, with: bytes.prefix(overwritten))
            let growth = bytes.dropFirst(overwritten)
            guard let remaining = writableBytes else {
                fileNodes[node]!.contents.append(contentsOf: growth)
                return
            }
            fileNodes[node]!.contents.append(contentsOf: growth.prefix(remaining))
            writableBytes = max(0, remaining - growth.count)
            guard growth.count <= remaining else { throw .io(operation: "writing", path: path, errno: ENOSPC) }
        }
    }

    fileprivate func sync(_ node: Int, path: String) throws(TranlogError) {
        syncGate.withLock {
            guard syncsPaused, pausedPaths?(path) ?? true else { return }
            syncsWaiting += 1
            syncGate.broadcast()
            while syncsPaused { syncGate.wait() }
            syncsWaiting -= 1
        }
        try consumeSync(path)
        try lock.locked { () throws(TranlogError) in
            try checkRunning("syncing", FilePath(path))
            fileSyncs += 1
            durableSteps += 1
            fileNodes[node]!.durable = fileNodes[node]!.contents
        }
    }

    fileprivate func truncate(_ node: Int, path: String, to size: UInt64) throws(TranlogError) {
        try lock.locked { () throws(TranlogError) in
            try checkRunning("truncating", FilePath(path))
            fileNodes[node]!.contents.removeSubrange(Int(size)...)
        }
    }

    // MARK: - Internals (called with `lock` held)

    private var stoppedLocked: Bool {
        crashAfterStep.map { durableSteps >= $0 } ?? false
    }

    private func checkRunning(_ operation: String, _ path: FilePath) throws(TranlogError) {
        LoopThreadFiles.check(operation, path.string)
        guard !stoppedLocked else { throw .io(operation: "\(operation) (after the simulated crash)", path: path.string, errno: EIO) }
    }

    private func consumeSync(_ path: String) throws(TranlogError) {
        try lock.locked { () throws(TranlogError) in
            defer { syncsAttempted += 1 }
            guard let remaining = syncsBeforeFailure else { return }
            guard remaining > 0 else { throw .io(operation: "syncing", path: path, errno: EIO) }
            syncsBeforeFailure = remaining - 1
        }
    }

    private func resolve(_ path: FilePath) -> Entry? {
        var entry = Entry.directory(Self.rootDirectory)
        for component in path.components {
            guard case .directory(let id) = entry, let next = directoryNodes[id]!.current[component.string] else { return nil }
            entry = next
        }
        return entry
    }

    /// The directory holding `path` and `path`'s name in it.
    private func parentSlot(_ path: FilePath, operation: String) throws(TranlogError) -> (directory: Int, name: String) {
        guard let name = path.lastComponent?.string, case .directory(let id) = resolve(path.removingLastComponent()) else {
            throw .io(operation: operation, path: path.string, errno: ENOENT)
        }
        return (id, name)
    }

    /// The directory at `path`, created durably with its missing ancestors (fixtures only).
    private func fixtureDirectory(_ path: FilePath) -> Int {
        var directory = Self.rootDirectory
        for component in path.components {
            if case .directory(let id) = directoryNodes[directory]!.current[component.string] {
                directory = id
            } else {
                let id = insertDirectory()
                addDurably(component.string, .directory(id), in: directory)
                directory = id
            }
        }
        return directory
    }

    private func insertFile(_ node: FileNode) -> Int {
        defer { nextNode += 1 }
        fileNodes[nextNode] = node
        return nextNode
    }

    private func insertDirectory() -> Int {
        defer { nextNode += 1 }
        directoryNodes[nextNode] = DirectoryNode()
        return nextNode
    }

    private func addDurably(_ name: String, _ entry: Entry, in directory: Int) {
        directoryNodes[directory]!.current[name] = entry
        directoryNodes[directory]!.durable[name] = entry
    }

    private func makeDurable(_ slot: Slot) {
        directoryNodes[slot.directory]!.durable[slot.name] = directoryNodes[slot.directory]!.current[slot.name]
    }
}

private final class SimulatedFile: AppendableFile {
    private let fileSystem: SimulatedFileSystem
    private let path: String
    private let node: Int
    /// Where the next append writes, for a file opened over existing bytes; nil: at its end.
    private var position: UInt64?

    init(fileSystem: SimulatedFileSystem, path: String, node: Int, position: UInt64? = nil) {
        self.fileSystem = fileSystem
        self.path = path
        self.node = node
        self.position = position
    }

    var size: UInt64 { position ?? fileSystem.size(of: node) }

    func append(_ bytes: ArraySlice<UInt8>) throws(TranlogError) {
        try fileSystem.write(bytes, to: node, at: position, path: path)
        position? += UInt64(bytes.count)
    }

    func sync() throws(TranlogError) { try fileSystem.sync(node, path: path) }

    func truncate(to size: UInt64) throws(TranlogError) {
        try fileSystem.truncate(node, path: path, to: size)
        if let position { self.position = min(position, size) }
    }
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
