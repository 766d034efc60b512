import ArgumentParser
import Foundation
import Repository
import SystemPackage
import Tranlog

/// `understudy-bench recovery`: how long opening a repository takes after a crash, when the whole
/// tranlog since the last checkpoint must be replayed (the worst case `checkpointLogBytes` bounds).
struct RecoveryBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery",
        abstract: "Measure crash recovery: replay of a tranlog of --log-mbytes; print a Markdown table.",
        discussion: """
            A child process (`recovery-write`) commits one-put transactions of --value-bytes from \
            --committers concurrent committers over --keys keys, with checkpoints disabled, until the \
            tranlogs reach --log-mbytes MiB; then it is killed with SIGKILL, as a crash would. Opening \
            the repository (lock, repair of the torn tail, replay of every record) is then timed. Files go \
            to a fresh directory inside --dir (default: the current directory), removed at the end.
            """)

    @Option(name: .customLong("log-mbytes"), help: "Tranlog to write before the crash, in MiB.")
    var logMBytes = 1024

    @Option(name: .customLong("value-bytes"), help: "Size of each committed value.")
    var valueBytes = 100

    @Option(help: "Concurrent committers in the writing process.")
    var committers = 256

    @Option(help: "Distinct keys written (the table replay rebuilds has at most this many objects).")
    var keys = 1_000_000

    @Option(help: "Where to create the scratch directory (on the disk to measure).")
    var dir: String = FileManager.default.currentDirectoryPath

    func validate() throws {
        guard logMBytes > 0, committers > 0, keys > 0, valueBytes >= 0 else {
            throw ValidationError("--log-mbytes, --committers and --keys must be positive, --value-bytes not negative")
        }
    }

    func run() throws {
        let scratch = try BenchmarkRepository.makeScratch(in: dir)
        defer { try? FileManager.default.removeItem(atPath: scratch.string) }
        let directory = try BenchmarkRepository.initialize(in: scratch)
        print("recovery benchmark: \(ProcessInfo.processInfo.activeProcessorCount) cores, scratch \(scratch)\n")
        let writing = try writeUntilKilled(directory)
        let clock = ContinuousClock()
        let started = clock.now
        let repository = try Repository(directory: directory, configuration: BenchmarkRepository.withoutCheckpoints)
        let elapsed = clock.now - started
        // No close(): it would checkpoint the whole table. The process exit releases the lock.
        printTable(writing: writing, status: repository.status, recovery: elapsed)
    }

    /// Runs the writer child until the tranlogs reach the target size, then kills it with SIGKILL.
    private func writeUntilKilled(_ directory: DataDirectory) throws -> Duration {
        let clock = ContinuousClock()
        let started = clock.now
        let child = try startSelf([
            "recovery-write", "--data", directory.root.string, "--value-bytes", "\(valueBytes)",
            "--committers", "\(committers)", "--keys", "\(keys)",
        ])
        defer { Self.crash(child) }
        while try Self.tranlogBytes(directory) < logMBytes << 20 {
            if let ended = child.termination { throw BenchmarkError("the writer exited (\(ended)) before the tranlogs reached \(logMBytes) MiB") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Self.crash(child)
        return clock.now - started
    }

    /// SIGKILL: no shutdown record, no final checkpoint, a torn last record if it was mid-write.
    private static func crash(_ child: ChildProcess) {
        child.send(SIGKILL)
        _ = child.waitForExit()
    }

    /// The log's data so far: every tranlog's size, but for the zeros the newest one is prepared
    /// with (FORMATS' zero tail; `.preallocated` files are not logs and not counted).
    private static func tranlogBytes(_ directory: DataDirectory) throws -> Int {
        let fileSystem = PosixFileSystem()
        let files = try TranlogDirectory.scan(directory.tranlogs, fileSystem: fileSystem).files
        guard let newest = files.last else { return 0 }
        let completed = try files.dropLast().reduce(0) { $0 + Int(try fileSystem.fileSize($1.path)) }
        return completed + Int(try dataBlocksEnd(newest.path, fileSystem))
    }

    /// Where the zero tail of `path` begins, to a 4 KiB block: a block of log data is never all
    /// zeros (every frame header has non-zero fields), and the zeros run to the end of the file, so
    /// the first all-zero block is found by bisection, reading a few blocks.
    private static func dataBlocksEnd(_ path: FilePath, _ fileSystem: PosixFileSystem) throws -> UInt64 {
        let block: UInt64 = 4096
        let size = try fileSystem.fileSize(path)
        var low: UInt64 = 0
        var high = (size + block - 1) / block
        while low < high {
            let middle = (low + high) / 2
            let bytes = try fileSystem.read(path, at: middle * block, count: Int(block))
            if bytes.allSatisfy({ $0 == 0 }) { high = middle } else { low = middle + 1 }
        }
        return min(size, low * block)
    }

    private func printTable(writing: Duration, status: RepositoryStatus, recovery: Duration) {
        let replayedBytes = Double(status.checkpoint.logBytesSinceCheckpoint)
        let records = Double(status.applied.seqno.rawValue)
        print("| value bytes | tranlog MiB | records | objects | write s (\(committers) committers) | recovery s | MB/s | records/s |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        print(
            "| \(valueBytes) | \(format(replayedBytes / 1_048_576, 0)) | \(Int(records)) | \(status.objectCount) | "
                + "\(format(writing.inSeconds, 1)) | \(format(recovery.inSeconds, 2)) | \(format(replayedBytes / recovery.inSeconds / 1e6, 1)) | "
                + "\(format(records / recovery.inSeconds, 0)) |")
    }
}
