import ArgumentParser
import Foundation
import SystemPackage

/// `understudy-bench tranlog`: the cost of durability on this machine, raw and through the writer.
struct TranlogBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tranlog",
        abstract: "Measure fdatasync latency and tranlog append throughput; print Markdown tables.",
        discussion: """
            1. Raw fdatasync: append 4 KiB and fdatasync, repeatedly: p50/p99 latency and syncs/s, the \
            limit for a single committer.
            2. Appends through TranlogWriter with 1, 16 and 256 concurrent committers × 100-byte and 4 KiB \
            values: records/s, MB/s (whole frames), p50/p99 commit latency and records per fdatasync \
            (counted), which shows group commit at work.
            Each measurement runs for --seconds. Files go to a fresh directory inside --dir (default: the \
            current directory, so the disk under test is the project's), removed at the end.
            """)

    @Option(help: "How long each measurement runs.")
    var seconds: Double = 2

    @Option(help: "Where to create the scratch directory (on the disk to measure).")
    var dir: String = FileManager.default.currentDirectoryPath

    static let committerCounts = [1, 16, 256]
    static let valueSizes = [100, 4096]

    func validate() throws {
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
    }

    func run() async throws {
        let scratch = FilePath(dir).appending("understudy-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: scratch.string, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch.string) }
        let duration = Duration.milliseconds(Int(seconds * 1000))
        print("tranlog benchmark: \(ProcessInfo.processInfo.activeProcessorCount) cores, scratch \(scratch), \(seconds) s per cell\n")
        printSyncTable(try SyncLatency.measure(in: scratch.string, for: duration))
        print()
        try await printAppendTable(in: scratch, for: duration)
    }

    private func printSyncTable(_ result: SyncLatency.Result) {
        print("| raw fdatasync (4 KiB append + fdatasync) | p50 ms | p99 ms | syncs/s |")
        print("|---|---:|---:|---:|")
        print(
            "| one writer | \(format(result.latency.p50.milliseconds, 3)) | \(format(result.latency.p99.milliseconds, 3)) "
                + "| \(format(Double(result.syncs) / result.elapsed.inSeconds, 0)) |")
    }

    private func printAppendTable(in scratch: FilePath, for duration: Duration) async throws {
        print("| committers | value bytes | records/s | MB/s | p50 commit ms | p99 commit ms | records/fdatasync |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for valueBytes in Self.valueSizes {
            for committers in Self.committerCounts {
                let cell = AppendThroughput(committers: committers, valueBytes: valueBytes)
                let result = try await cell.run(in: scratch.appending("c\(committers)-v\(valueBytes)"), for: duration)
                print(
                    "| \(committers) | \(valueBytes) | \(format(result.recordsPerSecond, 0)) | "
                        + "\(format(result.megabytesPerSecond, 2)) | \(format(result.latency.p50.milliseconds, 3)) | "
                        + "\(format(result.latency.p99.milliseconds, 3)) | \(format(result.recordsPerSync, 1)) |")
            }
        }
    }

}
