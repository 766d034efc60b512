import Foundation
import Synchronization
import Tranlog

/// The load `tranlog generate` puts on a writer: `commits` commits of 1–3 operations over `keys`
/// keys (nine in ten are puts of random values, the rest deletes), spread over concurrent committers
/// so that group commit batches them, with a checkpoint record after every `checkpointEvery` commits.
struct GenerateWorkload: Sendable {
    var commits: Int
    var valueBytes: Int
    var keys: Int
    var checkpointEvery: Int
    var writer: TranlogWriter
    var progress: GenerateProgress
    private let checkpoints = CheckpointSequence()

    init(commits: Int, valueBytes: Int, keys: Int, checkpointEvery: Int, writer: TranlogWriter, progress: GenerateProgress) {
        self.commits = commits
        self.valueBytes = valueBytes
        self.keys = keys
        self.checkpointEvery = checkpointEvery
        self.writer = writer
        self.progress = progress
    }

    /// Runs `concurrency` committers; each waits for its commit to be durable before the next, as a
    /// client of the node would.
    func run(concurrency: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<concurrency {
                group.addTask { try await runCommitter(lane, of: concurrency) }
            }
            try await group.waitForAll()
        }
    }

    /// Committer `lane` takes commits lane, lane + lanes, …: the committers share the work without
    /// sharing a counter, and the number of checkpoints is exactly `commits / checkpointEvery`.
    private func runCommitter(_ lane: Int, of lanes: Int) async throws {
        for index in stride(from: lane, to: commits, by: lanes) {
            _ = try await writer.append(randomCommit())
            progress.commitDone()
            if checkpointEvery > 0, (index + 1) % checkpointEvery == 0 {
                try await checkpoints.append(to: writer)
            }
        }
    }

    private func randomCommit() -> RecordBody {
        .commit((0..<Int.random(in: 1...3)).map { _ in randomOperation() })
    }

    private func randomOperation() -> Tranlog.Operation {
        let key = Array(String(format: "key-%06d", Int.random(in: 0..<keys)).utf8)
        guard Int.random(in: 0..<10) > 0 else { return .delete(key: key) }
        return .put(key: key, value: (0..<valueBytes).map { _ in UInt8.random(in: .min ... .max) })
    }
}

/// Numbers checkpoint records so extent generations rise in log order even when several committers
/// write them: the generation is taken and the record queued (which fixes its seqno) under one lock.
private final class CheckpointSequence: Sendable {
    private let lastGeneration = Mutex<UInt64>(0)

    func append(to writer: TranlogWriter) async throws {
        let result = await withCheckedContinuation { continuation in
            lastGeneration.withLock { generation in
                generation += 1
                let info = CheckpointInfo(extentGeneration: generation, oldestFileIDNeeded: writer.currentFileID)
                writer.append(.checkpoint(info)) { continuation.resume(returning: $0) }
            }
        }
        _ = try result.get()
    }
}

/// A single updating progress line on stderr, only when stderr is a terminal: logs and pipes get the
/// summary alone.
final class GenerateProgress: Sendable {
    private let total: Int
    private let step: Int
    private let completed = Atomic<Int>(0)
    private let isShown = isatty(STDERR_FILENO) == 1

    init(total: Int) {
        self.total = total
        self.step = max(1, total / 100)
    }

    func commitDone() {
        let done = completed.wrappingAdd(1, ordering: .relaxed).newValue
        guard isShown, done % step == 0 || done == total else { return }
        writeToStandardError(Array("\rgenerating: \(done)/\(total) commits (\(done * 100 / total)%)".utf8))
    }

    /// Ends the progress line so the summary starts on a fresh one.
    func finish() {
        if isShown { writeToStandardError(Array("\n".utf8)) }
    }
}
