import Synchronization
import SystemPackage
import Tranlog

/// The real file system, counting `fdatasync` calls, so records per sync (the group-commit batch
/// size) is measured rather than guessed.
struct CountingFileSystem: TranlogFileSystem {
    final class Counter: Sendable {
        let syncs = Atomic<Int>(0)
    }

    let counter = Counter()
    private let base = PosixFileSystem()

    func contentsOfDirectory(_ path: FilePath) throws(TranlogError) -> [String] { try base.contentsOfDirectory(path) }
    func readFile(_ path: FilePath) throws(TranlogError) -> [UInt8] { try base.readFile(path) }
    func fileExists(_ path: FilePath) -> Bool { base.fileExists(path) }
    func syncDirectory(_ path: FilePath) throws(TranlogError) { try base.syncDirectory(path) }
    func removeFile(_ path: FilePath) throws(TranlogError) { try base.removeFile(path) }
    func rename(_ source: FilePath, to target: FilePath) throws(TranlogError) { try base.rename(source, to: target) }
    func createDirectory(_ path: FilePath) throws(TranlogError) { try base.createDirectory(path) }

    func createFile(_ path: FilePath) throws(TranlogError) -> any AppendableFile {
        CountingFile(base: try base.createFile(path), counter: counter)
    }

    func openForAppend(_ path: FilePath) throws(TranlogError) -> any AppendableFile {
        CountingFile(base: try base.openForAppend(path), counter: counter)
    }
}

private final class CountingFile: AppendableFile {
    private let base: any AppendableFile
    private let counter: CountingFileSystem.Counter

    init(base: any AppendableFile, counter: CountingFileSystem.Counter) {
        self.base = base
        self.counter = counter
    }

    var size: UInt64 { base.size }
    func append(_ bytes: ArraySlice<UInt8>) throws(TranlogError) { try base.append(bytes) }
    func truncate(to size: UInt64) throws(TranlogError) { try base.truncate(to: size) }
    func close() throws(TranlogError) { try base.close() }

    func sync() throws(TranlogError) {
        try base.sync()
        counter.syncs.wrappingAdd(1, ordering: .relaxed)
    }
}
