import ArgumentParser
import Foundation
import SystemPackage
import Tranlog

/// `understudy tranlog generate DIR`: writes a realistic log through the real writer, for tests,
/// drills and benchmarks of the tools that read logs.
struct TranlogGenerate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a realistic tranlog through the group-commit writer.",
        discussion: """
            Creates DIR if needed. An empty DIR starts a new repository (a random repository id); a DIR \
            that already holds tranlogs is continued (same repository, next seqno). The log holds --commits \
            commits of 1–3 operations each over --keys keys (key-000000 …): nine in ten are puts of \
            --value-bytes random bytes, the rest deletes. A checkpoint record follows every \
            --checkpoint-every commits, and a shutdown record closes the log cleanly.

            --concurrency committers run at once, each waiting for its commit to be durable, so the writer \
            batches their records into shared fdatasyncs (group commit). Files rotate at --rotation-bytes.

            Progress is shown on a single line while stderr is a terminal; a summary (files, records, bytes, \
            seconds, records/s) is printed at the end.
            """)

    @Argument(help: "The tranlog directory to write (created if missing).")
    var directory: String

    @Option(help: "How many commits to write.")
    var commits: Int

    @Option(name: .customLong("value-bytes"), help: "Size of each put's value.")
    var valueBytes = 100

    @Option(help: "How many distinct keys the commits touch.")
    var keys = 1000

    @Option(name: .customLong("rotation-bytes"), help: "Rotate to a new file before a file would exceed this size.")
    var rotationBytes = TranlogLimits.defaultRotationBytes

    @Option(name: .customLong("source-id"), help: "The node name stamped on every record.")
    var sourceID = ProcessInfo.processInfo.hostName

    @Option(help: "How many committers append at once.")
    var concurrency = 16

    @Option(name: .customLong("checkpoint-every"), help: "Write a checkpoint record after every N commits (0: none).")
    var checkpointEvery = 1000

    func validate() throws {
        guard commits >= 1 else { throw ValidationError("--commits must be at least 1") }
        guard (0...TranlogLimits.maxValueBytes).contains(valueBytes) else {
            throw ValidationError("--value-bytes must be between 0 and \(TranlogLimits.maxValueBytes)")
        }
        guard keys >= 1 else { throw ValidationError("--keys must be at least 1") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard checkpointEvery >= 0 else { throw ValidationError("--checkpoint-every must be 0 or more") }
        _ = try ArgumentParsing.sourceID(sourceID)
    }

    func run() async throws {
        let writer = try openWriter()
        let firstSeqno = writer.lastSeqno.next
        let progress = GenerateProgress(total: commits)
        let workload = GenerateWorkload(
            commits: commits, valueBytes: valueBytes, keys: keys, checkpointEvery: checkpointEvery, writer: writer,
            progress: progress)
        let started = ContinuousClock.now
        do {
            try await workload.run(concurrency: concurrency)
            _ = try await writer.append(.shutdown)
        } catch {
            // Whatever was acknowledged is durable; close so the files are left as a crash would not.
            try? writer.close()
            throw error
        }
        try writer.close()
        let elapsed = ContinuousClock.now - started
        progress.finish()
        try printSummary(firstSeqno: firstSeqno, lastSeqno: writer.lastSeqno, elapsed: elapsed)
    }

    private func openWriter() throws -> TranlogWriter {
        let path = FilePath(directory)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CommandError("cannot create \(directory): \(error.localizedDescription)")
        }
        var configuration = TranlogWriterConfiguration(
            directory: path, repositoryID: try existingRepository(path) ?? .random(),
            sourceID: try ArgumentParsing.sourceID(sourceID))
        configuration.rotationBytes = rotationBytes
        return try TranlogWriter(configuration: configuration, startIfEmpty: .newRepository)
    }

    /// The repository of the logs already in the directory, from the newest file with a whole header.
    private func existingRepository(_ path: FilePath) throws -> RepositoryID? {
        for ref in try TranlogDirectory.scan(path).files.reversed() {
            if let contents = try TranlogFileContents.load(ref, fileSystem: PosixFileSystem()) {
                return contents.header.repositoryID
            }
        }
        return nil
    }

    private func printSummary(firstSeqno: Seqno, lastSeqno: Seqno, elapsed: Duration) throws {
        let files = try TranlogDirectory.scan(FilePath(directory)).files
        let bytes = try files.reduce(UInt64(0)) { $0 + (try fileSizeBytes($1.path)) }
        let records = firstSeqno.distance(to: lastSeqno.next)
        let seconds = elapsed.inSeconds
        print("generated \(commits) commits in \(directory)")
        printFields([
            "records": "\(records) (seqno \(firstSeqno) … \(lastSeqno))",
            "files": "\(files.count) (\(fileRange(files.map(\.fileID.fileName))))",
            "bytes": "\(bytes)",
            "seconds": String(format: "%.3f", seconds),
            "records/s": String(format: "%.0f", Double(records) / seconds),
        ])
    }
}
