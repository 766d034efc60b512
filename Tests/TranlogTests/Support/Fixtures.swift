import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

let logDirectory = FilePath("/data/tranlogs")
let testRepository = RepositoryID("6f1c3e2a-9b1d-4c55-8e0f-2a7b9c4d1e01")!
let otherRepository = RepositoryID("0b5d7f3e-1111-4a2b-9c3d-5e6f7a8b9c0d")!
let testSource = SourceID("primary-1")!

/// A clock that starts at a fixed instant and advances 1 ms per reading, so logs are reproducible.
final class SteppingClock: @unchecked Sendable {
    private let lock = NSLock()
    private var now = Timestamp(iso8601: "2026-11-22T03:00:00Z")!.rawValue

    func read() -> Timestamp {
        lock.withLock {
            now += 1_000
            return Timestamp(rawValue: now)
        }
    }
}

func writerConfiguration(
    directory: FilePath = logDirectory, repository: RepositoryID = testRepository, rotationBytes: Int = 2048,
    clock: SteppingClock = SteppingClock()
) -> TranlogWriterConfiguration {
    var configuration = TranlogWriterConfiguration(directory: directory, repositoryID: repository, sourceID: testSource)
    configuration.rotationBytes = rotationBytes
    configuration.clock = { clock.read() }
    return configuration
}

/// A file system holding an empty tranlog directory.
func emptyLogFileSystem() -> SimulatedFileSystem {
    let fileSystem = SimulatedFileSystem()
    try! fileSystem.createDirectory(logDirectory)
    return fileSystem
}

func putCommit(_ index: Int, valueBytes: Int = 40) -> RecordBody {
    .commit([.put(key: Array("key-\(index % 50)".utf8), value: Array(repeating: UInt8(truncatingIfNeeded: index), count: valueBytes))])
}

/// Writes `commits` commits (one at a time) into a new log and closes the writer.
@discardableResult
func writeLog(
    _ fileSystem: SimulatedFileSystem, commits: Int, repository: RepositoryID = testRepository, rotationBytes: Int = 2048
) throws -> [AppendedRecord] {
    let writer = try TranlogWriter(
        configuration: writerConfiguration(repository: repository, rotationBytes: rotationBytes), fileSystem: fileSystem,
        startIfEmpty: .newRepository)
    let records = try (0..<commits).map { try writer.appendAndWait(putCommit($0)) }
    try writer.close()
    return records
}

struct ReadResult {
    var records: [TranlogRecord]
    var tornTail: TornTail?
}

func readLog(_ fileSystem: any TranlogFileSystem, directory: FilePath = logDirectory) throws(TranlogError) -> ReadResult {
    var cursor = TranlogCursor(directory: try TranlogDirectory.scan(directory, fileSystem: fileSystem), fileSystem: fileSystem)
    var records: [TranlogRecord] = []
    while let record = try cursor.next() { records.append(record) }
    return ReadResult(records: records, tornTail: cursor.tornTail)
}

/// Runs `body`, expecting a `TranlogError`; returns it for assertions on its message.
func expectTranlogError(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) -> TranlogError? {
    do {
        try body()
        Issue.record("expected a TranlogError, but the operation succeeded", sourceLocation: sourceLocation)
    } catch let error as TranlogError {
        return error
    } catch {
        Issue.record("expected a TranlogError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

func path(_ fileID: UInt64) -> FilePath { logDirectory.appending(FileID(fileID).fileName) }
