import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting
@testable import Repository

let nodeRoot = FilePath("/node")
let nodeSource = SourceID("primary-1")!

func testConfiguration(maxRuns: Int = 8, rotationBytes: Int = 64 * 1024) -> RepositoryConfiguration {
    var configuration = RepositoryConfiguration()
    // Checkpoints are taken explicitly in tests; the scheduler must not race them.
    configuration.checkpointInterval = .seconds(3600)
    configuration.checkpointLogBytes = 1 << 40
    configuration.maxRuns = maxRuns
    configuration.rotationBytes = rotationBytes
    // A preallocating thread would race the crash harness's step count; the writer's own tests cover it.
    configuration.preallocatesSegments = false
    return configuration
}

/// A file system holding a freshly initialized repository.
func initializedFileSystem(logging: LoggingMode = .full) throws -> SimulatedFileSystem {
    let fileSystem = SimulatedFileSystem()
    try DataDirectory.initialize(nodeRoot, sourceID: nodeSource, loggingMode: logging, fileSystem: fileSystem)
    return fileSystem
}

func openRepository(_ fileSystem: SimulatedFileSystem, _ configuration: RepositoryConfiguration = testConfiguration()) throws -> Repository {
    try Repository(directory: DataDirectory(nodeRoot), configuration: configuration, fileSystem: fileSystem)
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func put(_ key: String, _ value: String) -> Transaction {
    Transaction(operations: [.put(key: bytes(key), value: bytes(value))])
}

/// Runs `body`, expecting a `RepositoryError`.
func expectRepositoryError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async -> RepositoryError? {
    do {
        try await body()
        Issue.record("expected a RepositoryError, but it succeeded", sourceLocation: sourceLocation)
    } catch let error as RepositoryError {
        return error
    } catch {
        Issue.record("expected a RepositoryError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Collects commit completions from the flush thread.
final class Outcomes: @unchecked Sendable {
    private let condition = NSCondition()
    private var results: [Result<CommitOutcome, RepositoryError>] = []

    var completion: @Sendable (Result<CommitOutcome, RepositoryError>) -> Void {
        { result in
            self.condition.withLock {
                self.results.append(result)
                self.condition.broadcast()
            }
        }
    }

    var count: Int { condition.withLock { results.count } }

    func waitFor(_ count: Int) -> [Result<CommitOutcome, RepositoryError>] {
        condition.withLock {
            let deadline = Date().addingTimeInterval(30)
            while results.count < count && condition.wait(until: deadline) {}
            return results
        }
    }
}
