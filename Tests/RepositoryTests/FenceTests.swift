import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting
@testable import Repository

/// Fencing: a primary that learned of a newer epoch acknowledges no more commits, from the moment
/// `fence.json` is durable, across restarts, until unfenced.
@Suite struct FenceTests {
    static let newer = NewerEpoch(epoch: Epoch(2), seqno: Seqno(4), node: "db2-standby-3fa9c1", learnedFrom: "the operator")
    static let message = "fenced: epoch 2 began at seqno 4 on db2-standby-3fa9c1"

    @Test("a fenced repository refuses commits with the fence's epoch, seqno and node, also after a restart, until unfenced")
    func fenceRefusesCommitsUntilUnfenced() async throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem)
        let before = try await repository.commit(put("a", "1"))
        let outcome = try repository.fence(at: Self.newer)
        guard case .fenced(let state) = outcome else { Issue.record("expected a new fence, got \(outcome)"); return }
        #expect(state.acknowledgedThrough == before.seqno)
        let refused = await expectRepositoryError { _ = try await repository.commit(put("b", "2")) }
        #expect(refused?.description.hasPrefix(Self.message + ". ") == true, "\(refused?.description ?? "nil")")
        #expect(refused?.description.contains("understudy unfence") == true)
        #expect(repository.status.writesRefused?.hasPrefix(Self.message) == true)
        #expect(repository.highestEpochSeen == Epoch(2))
        // The same epoch again, or an older one, changes nothing.
        #expect(try repository.fence(at: NewerEpoch(epoch: Epoch(2), learnedFrom: "again")) == .alreadyFenced(state))
        try repository.close()

        let reopened = try openRepository(fileSystem)
        #expect(reopened.fence == state, "a restart finds the fence")
        let refusedAgain = await expectRepositoryError { _ = try await reopened.commit(put("b", "2")) }
        #expect(refusedAgain == .fenced(state))
        #expect(try reopened.unfence() == state)
        #expect(!fileSystem.fileExists(DataDirectory(nodeRoot).fenceFile))
        #expect(try await reopened.commit(put("b", "2")).seqno > before.seqno)
        try reopened.close()
        #expect(try openRepository(fileSystem).fence == nil, "the unfence is durable")
    }

    @Test("a fence the disk fails to record, at any of its syncs, still refuses every commit from then on")
    func aFenceThatCannotBeRecordedStillRefusesCommits() async throws {
        let scratch = try initializedFileSystem()
        let counted = try openRepository(scratch)
        let before = scratch.syncsAttemptedCount
        _ = try counted.fence(at: Self.newer)
        let syncs = scratch.syncsAttemptedCount - before
        try counted.close()
        #expect(syncs >= 2, "the file's sync and its directory's")
        for failing in 0..<syncs {
            let fileSystem = try initializedFileSystem()
            let repository = try openRepository(fileSystem)
            _ = try await repository.commit(put("a", "1"))
            fileSystem.failSyncs(afterSuccessful: failing)
            let failure = try #require(throws: RepositoryError.self, "sync \(failing)") { _ = try repository.fence(at: Self.newer) }
            guard case .fenceNotRecorded(let recorded, let file, _) = failure else { Issue.record("sync \(failing): \(failure)"); continue }
            #expect(recorded.epoch == Self.newer.epoch && file == DataDirectory(nodeRoot).fenceFile.string, "sync \(failing)")
            #expect(failure.description.contains("could not record the fence in /node/fence.json"), "\(failure)")
            #expect(failure.description.contains("re-seed this node as a standby"))
            fileSystem.stopFailingSyncs()
            let refused = await expectRepositoryError { _ = try await repository.commit(put("b", "2")) }
            guard case .fenced(let state)? = refused else { Issue.record("sync \(failing): \(String(describing: refused))"); continue }
            #expect(state.epoch == Self.newer.epoch, "sync \(failing)")
            #expect(repository.get(bytes("b")) == nil, "sync \(failing)")
            try repository.close()
        }
    }

    @Test("a corrupt fence.json stops the repository from opening, naming the file")
    func corruptFenceFileIsRefused() async throws {
        let fileSystem = try initializedFileSystem()
        fileSystem.overwrite(DataDirectory(nodeRoot).fenceFile, with: bytes("{\"epoch\": "))
        let refused = await expectRepositoryError { _ = try openRepository(fileSystem) }
        guard case .dataDirectory(_, let problem)? = refused else { Issue.record("\(String(describing: refused))"); return }
        #expect(problem.contains("fence.json is corrupt"), "\(problem)")
    }

    @Test("a fence at an epoch no newer than the repository's own is refused, and so is a fence in restore mode")
    func fenceNeedsANewerEpochAndAPrimary() async throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem)
        let refused = await expectRepositoryError { _ = try repository.fence(at: NewerEpoch(epoch: Epoch(1), learnedFrom: "test")) }
        #expect(refused?.description.contains("epoch 1 is not newer than this node's own epoch 1") == true, "\(refused?.description ?? "nil")")
        #expect(!repository.isFenced)
        try repository.close()
        try Repository.enterRestoreMode(DataDirectory(nodeRoot), fileSystem: fileSystem)
        let restoring = try openRepository(fileSystem)
        defer { _ = try? restoring.close() }
        let refusedInRestoreMode = await expectRepositoryError { _ = try restoring.fence(at: Self.newer) }
        #expect(refusedInRestoreMode?.description.contains("restore mode") == true, "\(refusedInRestoreMode?.description ?? "nil")")
    }

    @Test("a commit appended but not yet durable when the fence lands is refused, never acknowledged")
    func commitInFlightWhenTheFenceLandsIsRefused() async throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem)
        defer { _ = try? repository.close() }
        let acknowledged = try await repository.commit(put("a", "1"))
        let outcomes = Outcomes()
        fileSystem.pauseSyncs()
        repository.commit(put("in-flight", "x"), completion: outcomes.completion)
        try #require(fileSystem.waitForPausedSyncs(1), "no sync reached the paused gate")
        // The fence holds its lock while its own sync waits at the gate; the commit's completion
        // then has to wait for the fence to land.
        // A thread of its own: a detached task waited for a cooperative thread, which other tests'
        // blocking waits held for longer than the gate's deadline on a loaded CI machine.
        let fencing = BackgroundWork { () throws(RepositoryError) in try repository.fence(at: Self.newer) }
        try #require(fileSystem.waitForPausedSyncs(2), "no sync reached the paused gate")
        fileSystem.resumeSyncs()
        try #require(fencing.finished(within: 120), "the fence did not land")
        let outcome = try #require(fencing.result).get()
        let results = outcomes.waitFor(1)
        try #require(results.count == 1, "the in-flight commit completed within the deadline")
        guard case .fenced(let state) = outcome else { Issue.record("expected a new fence, got \(outcome)"); return }
        #expect(results[0] == .failure(.fenced(state)), "\(results[0])")
        #expect(state.acknowledgedThrough == acknowledged.seqno, "the in-flight commit was never acknowledged")
    }

    @Test("a crash at every durable step of fencing restarts unfenced with no commit refused yet, or fenced")
    func crashAtEveryDurableStepOfFencing() async throws {
        let seed = testSeed()
        let steps = try await CrashStepHarness(
            name: "fence", seed: seed,
            setUp: { fileSystem in
                try DataDirectory.initialize(nodeRoot, sourceID: nodeSource, loggingMode: .full, fileSystem: fileSystem)
                let repository = try openRepository(fileSystem)
                for index in 0..<3 { _ = try await repository.commit(put("key-\(index)", "value")) }
                return FencingRun(repository: repository)
            },
            operation: { _, run in
                defer { _ = try? run.repository.close() }
                _ = try run.repository.fence(at: Self.newer)
                let refused = await expectRepositoryError { _ = try await run.repository.commit(put("refused", "x")) }
                run.refusalAnswered = refused == .fenced(try #require(run.repository.fence))
            },
            check: { disk, run, crash in
                let reopened = try openRepository(disk)
                defer { _ = try? reopened.close() }
                if run.refusalAnswered || crash.operationCompleted {
                    #expect(reopened.fence?.epoch == Epoch(2), "a refusal was answered, so the fence must be durable (\(crash))")
                }
                if let fence = reopened.fence {
                    #expect(fence.description == Self.message, "\(crash)")
                    let refused = await expectRepositoryError { _ = try await reopened.commit(put("after", "x")) }
                    #expect(refused == .fenced(fence), "\(crash)")
                } else {
                    #expect(!run.refusalAnswered, "\(crash)")
                    #expect(try await reopened.commit(put("after", "x")).epoch == Epoch(1), "\(crash)")
                }
            }
        ).run()
        #expect(steps >= 3, "writing fence.json is a file sync, a rename and a directory sync (seed \(seed))")
    }
}

/// One crashed fencing: whether a commit was refused before the world stopped.
final class FencingRun: @unchecked Sendable {
    let repository: Repository
    var refusalAnswered = false

    init(repository: Repository) { self.repository = repository }
}
