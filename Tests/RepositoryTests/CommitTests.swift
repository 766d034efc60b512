import Foundation
import Testing
import Tranlog
import UnderstudyTesting
@testable import Repository

@Suite struct CommitTests {
    @Test func committedObjectsAreReadableWithTheirSeqno() async throws {
        let repository = try openRepository(try initializedFileSystem())
        let first = try await repository.commit(put("a", "1"))
        let second = try await repository.commit(Transaction(operations: [.put(key: bytes("b"), value: bytes("2")), .delete(key: bytes("a"))]))
        #expect(second.seqno == first.seqno.next)
        #expect(repository.get(bytes("a")) == nil)
        #expect(repository.get(bytes("b")) == StoredObject(key: bytes("b"), value: bytes("2"), seqno: second.seqno))
        #expect(repository.status.objectCount == 1)
        #expect(repository.status.applied.seqno == second.seqno)
        try repository.close()
    }

    @Test func failedPreconditionAppliesNothing() async throws {
        let repository = try openRepository(try initializedFileSystem())
        let written = try await repository.commit(put("k", "old"))
        let conflict = await expectRepositoryError {
            _ = try await repository.commit(
                Transaction(
                    operations: [.put(key: bytes("k"), value: bytes("new")), .put(key: bytes("other"), value: bytes("x"))],
                    preconditions: [Precondition(key: bytes("k"), expectation: .writtenAt(Seqno(written.seqno.rawValue + 5)))]))
        }
        #expect(conflict?.description == "conflict on key 'k': expected a value written at seqno \(written.seqno.rawValue + 5), found a value written at seqno \(written.seqno); nothing was applied")
        #expect(repository.get(bytes("k"))?.value == bytes("old"))
        #expect(repository.get(bytes("other")) == nil)
        let absent = await expectRepositoryError {
            _ = try await repository.commit(Transaction(operations: [.delete(key: bytes("k"))], preconditions: [Precondition(key: bytes("k"), expectation: .absent)]))
        }
        #expect(absent?.description.contains("expected no value") == true)
        _ = try await repository.commit(
            Transaction(operations: [.put(key: bytes("k"), value: bytes("new"))], preconditions: [Precondition(key: bytes("k"), expectation: .writtenAt(written.seqno))]))
        #expect(repository.get(bytes("k"))?.value == bytes("new"))
        try repository.close()
    }

    @Test func invalidTransactionsAreRefused() async throws {
        let repository = try openRepository(try initializedFileSystem())
        let empty = await expectRepositoryError { _ = try await repository.commit(Transaction(operations: [])) }
        #expect(empty == .invalidTransaction("a commit needs at least one operation"))
        let longKey = await expectRepositoryError { _ = try await repository.commit(put(String(repeating: "k", count: 1025), "v")) }
        #expect(longKey?.description.contains("key of 1025 bytes exceeds the limit of 1024") == true)
        try repository.close()
    }

    /// Two commits in one group-commit batch: the second must see the first (head), while readers
    /// see neither until the sync returns, and the first is acknowledged only then.
    @Test func preconditionsSeeUndurableCommitsButReadersDoNot() async throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem)
        let outcomes = Outcomes()
        fileSystem.pauseSyncs()
        repository.commit(Transaction(operations: [.put(key: bytes("k"), value: bytes("first"))], preconditions: [Precondition(key: bytes("k"), expectation: .absent)]), completion: outcomes.completion)
        try #require(fileSystem.waitForPausedSyncs(1), "no sync reached the paused gate")
        let second = await expectRepositoryError {
            _ = try await repository.commit(Transaction(operations: [.put(key: bytes("k"), value: bytes("second"))], preconditions: [Precondition(key: bytes("k"), expectation: .absent)]))
        }
        #expect(second?.description.contains("conflict on key 'k'") == true)
        #expect(repository.get(bytes("k")) == nil, "not durable yet, so not visible")
        #expect(outcomes.count == 0, "not acknowledged before its sync returned")
        fileSystem.resumeSyncs()
        let first = try #require(try outcomes.waitFor(1).first?.get())
        #expect(repository.get(bytes("k")) == StoredObject(key: bytes("k"), value: bytes("first"), seqno: first.seqno), "visible once acknowledged")
        try repository.close()
    }

    @Test func failedSyncStopsCommitsButReadsGoOn() async throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem)
        _ = try await repository.commit(put("kept", "1"))
        fileSystem.failSyncs(afterSuccessful: 0)
        let failed = await expectRepositoryError { _ = try await repository.commit(put("lost", "2")) }
        #expect(failed?.description.starts(with: "the repository accepts no more commits") == true)
        let later = await expectRepositoryError { _ = try await repository.commit(put("later", "3")) }
        #expect(later?.description.contains("syncing") == true)
        #expect(repository.get(bytes("kept"))?.value == bytes("1"))
        #expect(repository.get(bytes("lost")) == nil)
        #expect(repository.status.writesRefused != nil)
        _ = try? repository.close()
    }

    @Test func aSecondOpenOfTheSameDirectoryIsRefused() throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem)
        do {
            _ = try openRepository(fileSystem)
            Issue.record("a second open must be refused")
        } catch let error as RepositoryError {
            #expect(error.description.starts(with: "data directory /node is in use by another process (pid \(getpid()))"))
        }
        try repository.close()
        try openRepository(fileSystem).close()
    }

    @Test func initRefusesAnExistingRepository() throws {
        let fileSystem = try initializedFileSystem()
        #expect(throws: RepositoryError.self) {
            try DataDirectory.initialize(nodeRoot, sourceID: nodeSource, loggingMode: .full, fileSystem: fileSystem)
        }
    }

    @Test func adminTokenIsReadable() throws {
        let fileSystem = try initializedFileSystem()
        let token = try AdminToken.read(DataDirectory(nodeRoot), fileSystem: fileSystem)
        #expect(token.count == 64)
    }

    @Test(arguments: [
        ("\"formatVersion\" : 1", "\"formatVersion\" : 2", "format version 2 in /node/understudy.json; this build reads version 1"),
        ("\"repositoryID\"", "\"repository\"", "/node/understudy.json is not a valid Understudy config"),
    ])
    func configOfAnotherVersionOrCorruptIsRefused(find: String, replace: String, message: String) throws {
        let fileSystem = try initializedFileSystem()
        let configPath = DataDirectory(nodeRoot).configFile
        let text = String(decoding: fileSystem.contents(of: configPath)!, as: UTF8.self)
        #expect(text.contains(find))
        fileSystem.overwrite(configPath, with: bytes(text.replacingOccurrences(of: find, with: replace)))
        do {
            _ = try openRepository(fileSystem)
            Issue.record("the config must be refused")
        } catch let error as RepositoryError {
            #expect(error.description.contains(message))
        }
    }

    @Test func eachDurableBatchIsInRecentFramesBeforeItsCommitIsAcknowledged() async throws {
        let repository = try openRepository(try initializedFileSystem())
        defer { try? repository.close() }
        let seen = SeenSeqnos()
        repository.recentFrames.observe { [recent = repository.recentFrames] in seen.withLock { $0.append(recent.durableSeqno!) } }
        var acknowledged: [Seqno] = []
        for index in 0..<3 {
            acknowledged.append(try await repository.commit(put("observed-\(index)", "v")).seqno)
            #expect(seen.withLock { $0 }.last == acknowledged.last, "the batch was kept and observed before the acknowledgement")
        }
        #expect(seen.withLock { $0 } == acknowledged)
    }
}

/// The seqnos an observer saw, from the flush thread.
private final class SeenSeqnos: @unchecked Sendable {
    private let lock = NSLock()
    private var seqnos: [Seqno] = []

    func withLock<Value>(_ body: (inout [Seqno]) -> Value) -> Value {
        lock.withLock { body(&seqnos) }
    }

    /// A bad setting is a configuration error, named as one (it used to read "invalid transaction").
    @Test func anUnusableConfigurationIsRefusedAsSuch() throws {
        let fileSystem = try initializedFileSystem()
        var configuration = testConfiguration()
        configuration.rotationBytes = 10
        #expect(throws: RepositoryError.invalidConfiguration("rotationBytes must be at least 4096")) { _ = try openRepository(fileSystem, configuration) }
    }
}
