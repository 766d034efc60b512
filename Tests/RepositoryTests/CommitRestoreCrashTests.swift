import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting
@testable import Repository

/// commitRestore's one commit point: a crash at every durable step (every file or directory sync)
/// restarts either in restore mode exactly as before, or as the primary of the new epoch; never in
/// between. Nothing acknowledged after the commit is lost, and the chain verifies.
@Suite struct CommitRestoreCrashTests {
    static let restoredRoot = FilePath("/restored")
    static let archive = FilePath("/archive")

    /// A restore in progress, ready to commit: a snapshot of a primary taken after `snapshotAfter`
    /// commits, with no tranlogs of its own, restored from the primary's archived tranlogs up to
    /// `restoreThrough` commits (all of them when nil). Returns the repository, the file system, and
    /// how many objects it holds. `continuous`: applied as a standby applies its mirror (local logs
    /// only, up to `restoreThrough`), which leaves the applied objects to the next checkpoint.
    static func pendingRestore(
        on fileSystem: SimulatedFileSystem = SimulatedFileSystem(), commits: Int = 60, snapshotAfter: Int = 20, restoreThrough: Int? = nil,
        archived: Bool = true, continuous: Bool = false
    ) async throws -> (Repository, SimulatedFileSystem, objects: Int) {
        let (repository, seqnos) = try await restoreToStart(on: fileSystem, commits: commits, snapshotAfter: snapshotAfter, archived: archived)
        if continuous, let restoreThrough {
            _ = try repository.applyLocalLogs(through: seqnos[restoreThrough - 1])
        } else {
            let target: RestoreTarget = restoreThrough.map { .seqno(seqnos[$0 - 1]) } ?? .endOfLogs
            _ = try repository.restoreLogs(from: archived ? [archive] : nil, to: target)
        }
        return (repository, fileSystem, restoreThrough ?? commits)
    }

    /// The snapshot in restore mode before any log is replayed, and the seqno of every commit.
    static func restoreToStart(
        on fileSystem: SimulatedFileSystem, commits: Int, snapshotAfter: Int, archived: Bool
    ) async throws -> (Repository, [Seqno]) {
        try DataDirectory.initialize(nodeRoot, sourceID: nodeSource, loggingMode: .full, fileSystem: fileSystem)
        let primary = try openRepository(fileSystem, testConfiguration(rotationBytes: 4096))
        var seqnos: [Seqno] = []
        for index in 0..<commits {
            seqnos.append(try await primary.commit(put("key-\(index)", "value-\(index)-" + String(repeating: "x", count: 60))).seqno)
            if index + 1 == snapshotAfter {
                try primary.checkpoint()
                fileSystem.copyTree(from: nodeRoot, to: restoredRoot)
            }
        }
        try primary.close()
        let restoredTranlogs = DataDirectory(restoredRoot).tranlogs
        if archived {
            fileSystem.copyTree(from: DataDirectory(nodeRoot).tranlogs, to: archive)
            for ref in try TranlogDirectory.scan(restoredTranlogs, fileSystem: fileSystem).files { try fileSystem.removeFile(ref.path) }
            try fileSystem.syncDirectory(restoredTranlogs)
        } else {
            for ref in try TranlogDirectory.scan(DataDirectory(nodeRoot).tranlogs, fileSystem: fileSystem).files {
                fileSystem.overwrite(restoredTranlogs.appending(ref.fileID.fileName), with: fileSystem.contents(of: ref.path)!)
            }
        }
        try Repository.enterRestoreMode(DataDirectory(restoredRoot), fileSystem: fileSystem)
        return (try reopen(fileSystem), seqnos)
    }

    static func reopen(_ fileSystem: SimulatedFileSystem) throws -> Repository {
        try Repository(directory: DataDirectory(restoredRoot), configuration: testConfiguration(rotationBytes: 4096), fileSystem: fileSystem)
    }

    /// Every tranlog of the restored directory reads as one unbroken chain (what `tranlog verify` checks).
    static func verifyChain(_ fileSystem: SimulatedFileSystem) throws -> Seqno? {
        var cursor = TranlogCursor(directory: try TranlogDirectory.scan(DataDirectory(restoredRoot).tranlogs, fileSystem: fileSystem), fileSystem: fileSystem)
        var last: Seqno?
        while let record = try cursor.next() { last = record.seqno }
        return last
    }

    @Test("a restore from archived logs, committed, written to and killed, recovers every acknowledged write")
    func committedArchiveRestoreSurvivesACrash() async throws {
        let (repository, fileSystem, objects) = try await Self.pendingRestore()
        let committed = try repository.commitRestore()
        var acknowledged: [String] = []
        for index in 0..<5 {
            _ = try await repository.commit(put("after-\(index)", "v\(index)"))
            acknowledged.append("after-\(index)")
        }
        let survivor = fileSystem.crashed(seed: testSeed())
        _ = try? repository.close()
        let reopened = try Self.reopen(survivor)
        defer { _ = try? reopened.close() }
        #expect(!reopened.isRestoring)
        #expect(reopened.status.epoch == committed.epoch)
        #expect(reopened.status.objectCount == objects + acknowledged.count)
        for key in acknowledged { #expect(reopened.get(bytes(key)) != nil, "\(key) was acknowledged after the commit") }
        #expect(try Self.verifyChain(survivor) == reopened.status.applied.seqno)
    }

    @Test("a crash at every durable step of commitRestore restarts as the restore it was or as the new primary",
          arguments: [(archived: true, through: Int?.none), (archived: false, through: 40)])
    func crashAtEveryDurableStep(archived: Bool, through: Int?) async throws {
        let seed = testSeed()
        let steps = try await CrashStepHarness(
            name: "commitRestore", seed: seed,
            setUp: { fileSystem in
                let (repository, _, objects) = try await Self.pendingRestore(on: fileSystem, restoreThrough: through, archived: archived)
                return (repository, objects, repository.status.applied)
            },
            operation: { _, fixture in
                defer { _ = try? fixture.0.close() }
                _ = try fixture.0.commitRestore()
            },
            check: { disk, fixture, crash in
                try await checkRestart(disk, restoredTo: fixture.2, objects: fixture.1, crash: crash)
            }
        ).run()
        #expect(steps >= 3, "the commit makes several durable steps (seed \(seed))")
    }

    /// A promote no longer waits for a standby's checkpoint in progress, so the two interleave: the
    /// checkpoint holds at its extent run's sync (its first durable step), commitRestore runs to
    /// its end, then the checkpoint lands (at the restore's position, after the commit point) and
    /// the repository closes. A crash at every durable step of that restarts either restoring, at
    /// the snapshot's checkpoint or the landed one, or as the new primary holding every object.
    @Test("a crash at every durable step of commitRestore interleaved with a checkpoint in progress loses no object")
    func crashAtEveryDurableStepDuringACheckpoint() async throws {
        let steps = try await CrashStepHarness(
            name: "commitRestore during a checkpoint",
            setUp: { fileSystem in
                let (repository, _, objects) = try await Self.pendingRestore(on: fileSystem, restoreThrough: 40, archived: false, continuous: true)
                #expect(repository.status.checkpoint.position.seqno < repository.status.applied.seqno, "the checkpoint has objects to write")
                return (repository, objects, repository.status.applied, repository.status.checkpoint.position.seqno)
            },
            operation: { fileSystem, fixture in
                let repository = fixture.0
                defer { _ = try? repository.close() }
                // The extent run's temporary file only: commitRestore rewrites a cut-back tranlog through a .tmp too.
                fileSystem.pauseSyncs(only: { $0.contains("/extents/") && $0.hasSuffix(".tmp") })
                let checkpoint = BackgroundWork { () throws(RepositoryError) in try repository.checkpoint() }
                // Crashed at step 0, the checkpoint fails before it reaches the sync.
                if !fileSystem.hasCrashed {
                    try #require(fileSystem.waitForPausedSyncs(1), "the checkpoint did not reach its run's sync: \(String(describing: checkpoint.result))")
                }
                defer {
                    fileSystem.resumeSyncs()
                    _ = checkpoint.finished(within: 60)
                }
                _ = try repository.commitRestore()
                fileSystem.resumeSyncs()
                try #require(checkpoint.finished(within: 60), "the checkpoint did not finish after the promote")
                _ = try checkpoint.result?.get()
            },
            check: { disk, fixture, crash in
                let (_, objects, before, snapshotCheckpoint) = fixture
                let repository = try Self.reopen(disk)
                defer { _ = try? repository.close() }
                if repository.isRestoring {
                    #expect([snapshotCheckpoint, before.seqno].contains(repository.status.applied.seqno), "\(crash)")
                    #expect(try repository.applyLocalLogs(through: before.seqno) == before, "\(crash)")
                    _ = try repository.commitRestore()
                } else {
                    #expect(repository.status.epoch.rawValue == before.epoch.rawValue + 1, "\(crash)")
                    let history = try EpochHistoryStore.read(DataDirectory(Self.restoredRoot).epochsFile, fileSystem: disk)
                    #expect(history.current.startSeqno == before.seqno.next, "the epochBegin follows the restored record (\(crash))")
                }
                #expect(repository.status.objectCount == objects, "\(crash)")
                let written = try await repository.commit(put("after-crash", "\(crash)"))
                #expect(try Self.verifyChain(disk) == written.seqno, "\(crash)")
            }
        ).run()
        print("commitRestore during a checkpoint: crashed after each of its \(steps) durable steps")
        #expect(steps >= 8, "the checkpoint's run and MANIFEST, the commit, the close: \(steps) durable steps")
    }

    /// A restore from archived logs to a seqno before their end sees files past the restore point:
    /// the new epoch's first file must go above them, or it would share a fileId with a file of the
    /// abandoned timeline in the archive. A crash at every durable step of that `restore logs` that
    /// leaves the restore advanced, followed at once by `restore commit`, must still number it above them.
    @Test("a crash at every durable step of restore logs keeps the new epoch's first file above every file the restore saw")
    func crashAtEveryDurableStepOfRestoreLogs() async throws {
        let steps = try await CrashStepHarness(
            name: "restore logs",
            setUp: { fileSystem in
                let (repository, seqnos) = try await Self.restoreToStart(on: fileSystem, commits: 60, snapshotAfter: 20, archived: true)
                let archived = try TranlogDirectory.scan(Self.archive, fileSystem: fileSystem).files.map(\.fileID)
                return (repository, seqnos[39], archived.max()!, repository.status.applied.seqno)
            },
            operation: { _, fixture in
                defer { _ = try? fixture.0.close() }
                let report = try fixture.0.restoreLogs(from: [Self.archive], to: .seqno(fixture.1))
                #expect(report.restoredTo.eventID!.fileID < fixture.2, "the target lies before the archive's last file")
            },
            check: { disk, fixture, crash in
                let repository = try Self.reopen(disk)
                defer { _ = try? repository.close() }
                #expect(repository.isRestoring, "\(crash)")
                // A crash that left no trace of the restore is as if it never ran (the archive unseen).
                let restored = repository.status.applied.seqno > fixture.3
                let committed = try repository.commitRestore()
                let first = try #require(committed.epochBegin.eventID?.fileID)
                if restored {
                    #expect(first > fixture.2, "the new epoch starts in \(first.fileName), within the archive's files (up to \(fixture.2.fileName)): \(crash)")
                }
            }
        ).run()
        print("restore logs: crashed after each of its \(steps) durable steps")
    }

    /// The same restore failing with an I/O error at each of its syncs, the process going on: the
    /// same restore run again completes, the commit numbers the new epoch above every file the
    /// restore saw, and a restart finds every restored object.
    @Test("restore logs failing at each sync, then run again in the same process, restores everything and numbers the epoch above the archive")
    func restoreLogsFailingAtEachSyncThenRunAgain() async throws {
        var failures = 0
        for failing in 0... {
            let fileSystem = SimulatedFileSystem()
            let (repository, seqnos) = try await Self.restoreToStart(on: fileSystem, commits: 60, snapshotAfter: 20, archived: true)
            let archived = try #require(try TranlogDirectory.scan(Self.archive, fileSystem: fileSystem).files.map(\.fileID).max())
            let target = seqnos[39]
            fileSystem.failSyncs(afterSuccessful: failing)
            let failed: Bool
            do { _ = try repository.restoreLogs(from: [Self.archive], to: .seqno(target)); failed = false } catch { failed = true }
            fileSystem.stopFailingSyncs()
            if failed {
                failures += 1
                let report = try repository.restoreLogs(from: [Self.archive], to: .seqno(target))
                #expect(report.restoredTo.seqno == target, "sync \(failing)")
            }
            let committed = try repository.commitRestore()
            let first = try #require(committed.epochBegin.eventID?.fileID)
            #expect(first > archived, "the new epoch starts in \(first.fileName), within the archive's files: sync \(failing)")
            _ = try await repository.commit(put("after", "restore"))
            try repository.close()
            let reopened = try Self.reopen(fileSystem)
            #expect(reopened.status.objectCount == 41, "40 restored and one after, sync \(failing)")
            #expect(reopened.get(bytes("key-39")) != nil && reopened.get(bytes("key-40")) == nil, "sync \(failing)")
            try reopened.close()
            if !failed {
                print("restore logs: an I/O error at each of its \(failing) syncs")
                break
            }
        }
        #expect(failures >= 3, "the marks, the checkpoint's run and MANIFEST, the restore state")
    }

    /// After a crash: either still restoring at the very same position (and a commit now works), or
    /// the primary of the new epoch; in both cases writes are accepted after that and survive.
    private func checkRestart(_ fileSystem: SimulatedFileSystem, restoredTo before: AppliedPosition, objects: Int, crash step: CrashPoint) async throws {
        let repository = try Self.reopen(fileSystem)
        defer { _ = try? repository.close() }
        #expect(repository.status.objectCount == objects, "\(step)")
        if repository.isRestoring {
            #expect(repository.status.applied == before, "a restart before the commit point stands where the restore stood (\(step))")
            // What prepare set aside so far leaves the local logs one chain: a standby reads them
            // again as its mirror.
            _ = try Self.verifyChain(fileSystem)
            #expect(repository.status.epoch == before.epoch)
            _ = try repository.commitRestore()
        } else {
            #expect(repository.status.epoch.rawValue == before.epoch.rawValue + 1, "\(step)")
            // The epoch begins right after the restored record (the close after the commit may have
            // added its checkpoint and shutdown records since).
            let history = try EpochHistoryStore.read(DataDirectory(Self.restoredRoot).epochsFile, fileSystem: fileSystem)
            #expect(history.current.startSeqno == before.seqno.next, "the epochBegin follows the restored record (\(step))")
        }
        let written = try await repository.commit(put("after-crash", "\(step)"))
        #expect(written.seqno > before.seqno.next, "\(step)")
        #expect(try Self.verifyChain(fileSystem) == written.seqno, "\(step)")
    }

    @Test("an error after the commit point refuses writes, naming the command, until commitRestore runs again and completes it")
    func interruptedCompletionIsCompletedByRunningItAgain() async throws {
        let (repository, fileSystem, _) = try await Self.pendingRestore()
        defer { _ = try? repository.close() }
        // The commit point is the first sync of restore.json's replacement (preceded by none: an
        // archive restore's checkpoint stands at the restore point and nothing is set aside);
        // the next sync, the new epoch file's header, fails.
        fileSystem.failSyncs(afterSuccessful: 2)
        #expect(throws: RepositoryError.self) { try repository.commitRestore() }
        let pending = try #require(repository.pendingCommit, "the commit point was passed")
        #expect(!repository.isRestoring)
        let refused = await expectRepositoryError { _ = try await repository.commit(put("k", "v")) }
        #expect(refused?.description.contains("epoch \(pending.epoch) was committed (`restore commit`) but opening it did not complete") == true,
                "\(refused?.description ?? "nil")")
        fileSystem.failSyncs(afterSuccessful: .max)
        let completed = try repository.commitRestore()
        #expect(completed.completedInterrupted)
        #expect(completed.epoch == pending.epoch)
        #expect(completed.message.hasPrefix("Completed the commit of epoch \(pending.epoch) that an error had interrupted"))
        #expect(repository.pendingCommit == nil)
        _ = try await repository.commit(put("k", "v"))
    }
}
