import ArgumentParser
import Repository
import SystemPackage
import Tranlog

/// `understudy-bench recovery-write`: the child process of `recovery`. Commits one-put transactions
/// from many concurrent committers, never checkpointing, until it is killed: its end is a crash.
struct RecoveryWriter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery-write",
        abstract: "Internal to `recovery`: commit without checkpoints until killed.",
        shouldDisplay: false)

    @Option(help: "The data directory, already initialized.")
    var data: String

    @Option(name: .customLong("value-bytes"))
    var valueBytes: Int

    @Option
    var committers: Int

    @Option
    var keys: Int

    func run() async throws {
        let repository = try Repository(directory: DataDirectory(FilePath(data)), configuration: BenchmarkRepository.withoutCheckpoints)
        let value = BenchmarkRepository.randomValue(valueBytes)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for committer in 0..<committers {
                group.addTask { try await Self.commitForever(to: repository, first: committer, stride: committers, keys: keys, value: value) }
            }
            try await group.waitForAll()
        }
    }

    /// One committer: waits for each commit to be durable before the next, like a client of a node.
    private static func commitForever(to repository: Repository, first: Int, stride: Int, keys: Int, value: [UInt8]) async throws {
        var index = first
        while true {
            _ = try await repository.commit(Transaction(operations: [.put(key: BenchmarkRepository.key(index % keys), value: value)]))
            index += stride
        }
    }
}
