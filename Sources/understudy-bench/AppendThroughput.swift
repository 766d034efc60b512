import SystemPackage
import Tranlog

/// Tranlog append throughput through `TranlogWriter`: `committers` concurrent committers, each
/// appending one-put commits of `valueBytes` and waiting for durability before the next, as clients
/// of a node do. Concurrency is what lets group commit share one fdatasync among many records.
struct AppendThroughput {
    struct Result {
        var records: Int
        var frameBytes: Int
        var syncs: Int
        var elapsed: Duration
        var latency: LatencySummary

        var recordsPerSecond: Double { Double(records) / elapsed.inSeconds }
        var megabytesPerSecond: Double { Double(records * frameBytes) / elapsed.inSeconds / 1e6 }
        var recordsPerSync: Double { Double(records) / Double(max(syncs, 1)) }
    }

    var committers: Int
    var valueBytes: Int

    static let sourceID = SourceID("bench")!

    /// Runs one cell in a fresh subdirectory of `directory` for about `duration`.
    func run(in directory: FilePath, for duration: Duration) async throws -> Result {
        let fileSystem = PosixFileSystem()
        try fileSystem.createDirectory(directory)
        let writer = try TranlogWriter(
            configuration: TranlogWriterConfiguration(directory: directory, repositoryID: .random(), sourceID: Self.sourceID),
            fileSystem: fileSystem, startIfEmpty: .newRepository)
        let body = RecordBody.commit([.put(key: Array("bench-key".utf8), value: [UInt8](repeating: 0x5A, count: valueBytes))])
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + duration
        let samples = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for _ in 0..<committers {
                group.addTask { try await Self.commitUntil(deadline, body: body, writer: writer) }
            }
            return try await group.reduce(into: [Duration]()) { $0 += $1 }
        }
        let elapsed = clock.now - started
        try writer.close()
        return Result(
            records: samples.count, frameBytes: RecordFrame.encodedLength(body, sourceID: Self.sourceID),
            syncs: writer.syncCount, elapsed: elapsed, latency: LatencySummary(samples))
    }

    /// One committer: append, wait until durable, repeat until the deadline. Returns each commit's latency.
    private static func commitUntil(
        _ deadline: ContinuousClock.Instant, body: RecordBody, writer: TranlogWriter
    ) async throws -> [Duration] {
        let clock = ContinuousClock()
        var samples: [Duration] = []
        while clock.now < deadline {
            let before = clock.now
            _ = try await writer.append(body)
            samples.append(clock.now - before)
        }
        return samples
    }
}
