import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting
@testable import Repository

/// Full backups taken while commits go on, restore from backup then logs then commitRestore, and
/// checkpoint suspension (the extent-snapshot backup).
@Suite struct BackupRestoreTests {
    static let backupDirectory = FilePath("/backups")

    static func fileSystemWithBackupDirectory(logging: LoggingMode = .full) throws -> SimulatedFileSystem {
        let fileSystem = try initializedFileSystem(logging: logging)
        try fileSystem.createDirectory(backupDirectory)
        return fileSystem
    }

    /// Commits from another task while a backup runs: the backup holds exactly the state at its
    /// position — every commit at or before it, none after.
    @Test func fullBackupIsConsistentAsOfItsPosition() async throws {
        let fileSystem = try Self.fileSystemWithBackupDirectory()
        let repository = try openRepository(fileSystem)
        var history: [(Seqno, String, String)] = []
        for index in 0..<300 {
            let value = "v\(index)"
            history.append((try await repository.commit(put("key-\(index % 97)", value)).seqno, "key-\(index % 97)", value))
        }
        let writes = Task {
            var later: [(Seqno, String, String)] = []
            for index in 300..<600 {
                later.append((try await repository.commit(put("key-\(index % 97)", "v\(index)")).seqno, "key-\(index % 97)", "v\(index)"))
            }
            return later
        }
        let summary = try repository.fullBackup(to: [BackupTarget(path: Self.backupDirectory.appending("full.bak"))], compress: false)
        history += try await writes.value
        let reader = try BackupReader.open(summary.files.map { FilePath($0) }, fileSystem: fileSystem)
        let position = reader.description.position
        var expected: [String: String] = [:]
        for (seqno, key, value) in history where seqno <= position.seqno { expected[key] = value }
        var found: [String: String] = [:]
        try reader.forEachObject { key, object in found[String(decoding: key, as: UTF8.self)] = String(decoding: object.value, as: UTF8.self) }
        #expect(found == expected)
        #expect(summary.objectCount == expected.count)
        try repository.close()
        let kinds = try TranlogDirectory.scan(DataDirectory(nodeRoot).tranlogs, fileSystem: fileSystem).files.flatMap { ref in
            var cursor = TranlogCursor(directory: TranlogDirectory(description: "", files: [ref]), fileSystem: fileSystem)
            var kinds: [RecordKind] = []
            while let record = try cursor.next() { kinds.append(record.header.kind) }
            return kinds
        }
        #expect(kinds.contains(.backupStart) && kinds.contains(.backupEnd), "backups are marked in the tranlog")
    }

    @Test func restoreBackupThenLogsThenCommit() async throws {
        let fileSystem = try Self.fileSystemWithBackupDirectory()
        let primary = try openRepository(fileSystem, testConfiguration(rotationBytes: 4096))
        // 60 objects of 2 KiB make two 64 KiB blocks: the first file passes its limit after one.
        for index in 0..<60 { _ = try await primary.commit(put("key-\(index)", "first-\(index)-" + String(repeating: "z", count: 2048))) }
        let backup = try primary.fullBackup(to: [BackupTarget(path: Self.backupDirectory.appending("b1"), limitBytes: 1000), BackupTarget(path: Self.backupDirectory.appending("b2"))], compress: true)
        #expect(backup.files.count == 2 && backup.files.allSatisfy { $0.hasSuffix(".gz") })
        for index in 60..<100 { _ = try await primary.commit(put("key-\(index)", "second-\(index)")) }
        let primaryID = primary.config.repositoryID
        let crashed = fileSystem.crashed(seed: 9)
        _ = try? primary.close()

        // A new node, initialized as another repository, takes the backup's identity.
        let standbyRoot = FilePath("/restored")
        try DataDirectory.initialize(standbyRoot, sourceID: SourceID("standby-1")!, loggingMode: .full, fileSystem: crashed)
        let restored = try RestoreTests.restoring(crashed, root: standbyRoot)
        let report = try restored.restoreBackup(from: backup.files.map { FilePath($0) })
        #expect(report.message == "The restore from backup completed, with 60 objects restored. Ready for restore from transaction log(s).")
        #expect(restored.config.repositoryID == primaryID)
        #expect(restored.status.restoreStatus.hasPrefix("Restoring from transaction log files, restored to"))
        let logs = try restored.restoreLogs(from: [DataDirectory(nodeRoot).tranlogs])
        #expect(logs.reachedEndOfLogs && restored.status.objectCount == 100)
        #expect(restored.get(bytes("key-99"))?.value == bytes("second-99"))
        let committed = try restored.commitRestore()
        #expect(committed.warning == nil)
        _ = try await restored.commit(put("after", "restore"))
        try restored.close()
        let reopened = try Repository(directory: DataDirectory(standbyRoot), configuration: testConfiguration(), fileSystem: crashed)
        #expect(reopened.status.objectCount == 101 && reopened.config.repositoryID == primaryID)
        try reopened.close()
    }

    @Test func aPartialLoggingBackupCannotBeRolledForward() async throws {
        let fileSystem = try Self.fileSystemWithBackupDirectory(logging: .partial)
        let primary = try openRepository(fileSystem)
        _ = try await primary.commit(put("a", "1"))
        let backup = try primary.fullBackup(to: [BackupTarget(path: Self.backupDirectory.appending("partial"))], compress: false)
        try primary.close()
        try DataDirectory.initialize(FilePath("/other"), sourceID: nodeSource, loggingMode: .full, fileSystem: fileSystem)
        let restored = try RestoreTests.restoring(fileSystem, root: FilePath("/other"))
        let report = try restored.restoreBackup(from: backup.files.map { FilePath($0) })
        #expect(report.message == "Restore complete (backup made while in partial logging mode)")
        let refused = try? RestoreTests().expectFailure { _ = try restored.restoreLogs() }
        #expect(refused?.description.starts(with: "transaction logs cannot be restored: the backup was made in partial logging mode") == true)
        _ = try restored.commitRestore()
        try restored.close()
    }

    @Test func aDamagedBackupLeavesTheRepositoryAsItWas() async throws {
        let fileSystem = try Self.fileSystemWithBackupDirectory()
        let primary = try openRepository(fileSystem)
        for index in 0..<50 { _ = try await primary.commit(put("key-\(index)", "v")) }
        let backup = try primary.fullBackup(to: [BackupTarget(path: Self.backupDirectory.appending("full"))], compress: false)
        try primary.close()
        let path = FilePath(backup.files[0])
        var damaged = try #require(fileSystem.contents(of: path))
        damaged[damaged.count - 200] ^= 0x10
        fileSystem.overwrite(path, with: damaged)
        let restored = try RestoreTests.restoring(fileSystem)
        let before = restored.status
        let error = try? RestoreTests().expectFailure { _ = try restored.restoreBackup(from: [path]) }
        #expect(error?.description.contains(path.string) == true)
        #expect(restored.status.applied == before.applied && restored.status.objectCount == before.objectCount)
        try restored.close()
    }

    @Test func backupTargetsAreCheckedFirstAndOneBackupRunsAtATime() async throws {
        let fileSystem = try Self.fileSystemWithBackupDirectory()
        let repository = try openRepository(fileSystem)
        _ = try await repository.commit(put("a", "1"))
        fileSystem.overwrite(Self.backupDirectory.appending("exists"), with: bytes("x"))
        for target in [Self.backupDirectory.appending("exists"), FilePath("/missing/full"), Self.backupDirectory.appending("")] {
            let error = try? RestoreTests().expectFailure { _ = try repository.fullBackup(to: [BackupTarget(path: target)], compress: false) }
            #expect(error != nil, "\(target) must be refused")
        }
        // Hold the first backup at its first fsync; a second one is refused, naming it.
        fileSystem.pauseSyncs()
        let first = Thread { _ = try? repository.fullBackup(to: [BackupTarget(path: Self.backupDirectory.appending("first"))], compress: false) }
        first.start()
        try #require(fileSystem.waitForPausedSyncs(1), "no sync reached the paused gate")
        let busy = try? RestoreTests().expectFailure { _ = try repository.fullBackup(to: [BackupTarget(path: Self.backupDirectory.appending("second"))], compress: false) }
        #expect(busy?.description.starts(with: "a full backup to \(Self.backupDirectory.appending("first")) is already in progress") == true)
        #expect(repository.status.backup?.files == [Self.backupDirectory.appending("first").string])
        fileSystem.resumeSyncs()
        try repository.close()
    }

    /// A standby's applier asks for the applied position after every apply: held up for a whole
    /// checkpoint (as `status` is, since it reports the manifest), it stalled replay for up to 0.8 s.
    /// A checkpoint holds its lock while it writes its run; the applied position (a standby's
    /// applier) and status (monitoring) are answered meanwhile, status saying a checkpoint runs.
    @Test func theAppliedPositionAndStatusAreReadWhileACheckpointIsInProgress() async throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem)
        let written = try await repository.commit(put("a", "1"))
        let generation = repository.status.checkpoint.manifestGeneration
        fileSystem.pauseSyncs()
        let checkpointed = DispatchSemaphore(value: 0)
        Thread {
            _ = try? repository.checkpoint()
            checkpointed.signal()
        }.start()
        try #require(fileSystem.waitForPausedSyncs(1), "no sync reached the paused gate")
        // Asked on another thread, so that a wait for the checkpoint shows as a missed deadline
        // instead of a hung test.
        let answered = DispatchSemaphore(value: 0)
        let answers = Answers()
        Thread {
            answers.seqno = repository.appliedPosition.seqno
            answers.status = repository.status
            answered.signal()
        }.start()
        let inTime = answered.wait(timeout: .now() + 10) == .success
        fileSystem.resumeSyncs()
        #expect(inTime, "answered while the checkpoint waits for its sync")
        if !inTime { answered.wait() }
        #expect(answers.seqno == written.seqno)
        #expect(answers.status?.checkpoint.inProgress == true)
        #expect(answers.status?.checkpoint.manifestGeneration == generation)
        checkpointed.wait()
        #expect(repository.status.checkpoint.inProgress == false)
        #expect(repository.status.checkpoint.manifestGeneration > generation)
        #expect(repository.status.checkpoint.position.seqno == written.seqno)
        try repository.close()
    }

    @Test func suspendedCheckpointsFreezeTheExtentsUntilResumedOrShutDown() async throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem)
        _ = try await repository.commit(put("a", "1"))
        try repository.checkpoint()
        let frozen = try ManifestStore.read(directory: DataDirectory(nodeRoot).extents, fileSystem: fileSystem)
        let status = try repository.suspendCheckpoints(for: .seconds(3600))
        #expect(status.suspended && status.secondsRemaining > 3500)
        _ = try await repository.commit(put("b", "2"))
        #expect(try repository.checkpoint() == nil, "no checkpoint while suspended")
        #expect(try ManifestStore.read(directory: DataDirectory(nodeRoot).extents, fileSystem: fileSystem) == frozen)
        #expect(repository.resumeCheckpoints(), "still suspended when resumed: a snapshot taken meanwhile is usable")
        #expect(try repository.checkpoint() != nil)

        _ = try repository.suspendCheckpoints(for: .nanoseconds(1))
        #expect(!repository.resumeCheckpoints(), "the suspension lapsed: a snapshot taken meanwhile is not usable")

        _ = try repository.suspendCheckpoints(for: .seconds(3600))
        let last = try await repository.commit(put("c", "3"))
        try repository.close()
        let final = try #require(try ManifestStore.read(directory: DataDirectory(nodeRoot).extents, fileSystem: fileSystem))
        #expect(final.cleanShutdown && final.checkpoint.seqno == last.seqno, "shutdown ends the suspension and takes the final checkpoint")
    }

    @Test func aSecondSuspendWhileTheFirstWaitsForACheckpointFails() async throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem)
        _ = try await repository.commit(put("a", "1"))
        fileSystem.pauseSyncs()
        let checkpoint = Thread { _ = try? repository.checkpoint() }
        checkpoint.start()
        try #require(fileSystem.waitForPausedSyncs(1), "no sync reached the paused gate")   // the checkpoint is writing its run
        let firstSuspend = Thread { _ = try? repository.suspendCheckpoints(for: .seconds(60)) }
        firstSuspend.start()
        try waitUntil { repository.stateLock.withLock { repository.suspensionWaiting } }
        let second = try? RestoreTests().expectFailure { _ = try repository.suspendCheckpoints(for: .seconds(60)) }
        #expect(second?.description.starts(with: "another checkpoint suspension is waiting") == true)
        fileSystem.resumeSyncs()
        try waitUntil { repository.checkpointSuspension.suspended }
        try repository.close()
    }

    /// A suspension that waited for a checkpoint returns once the checkpoint's record is in the log
    /// too: an operator (or a test) reading the position after suspending sees the last record a
    /// checkpoint adds until the resume.
    @Test func aSuspensionWaitsForTheCheckpointsRecord() async throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem)
        let written = try await repository.commit(put("a", "1"))
        fileSystem.pauseSyncs(only: { $0.contains("tranlogs") })
        let checkpoint = Thread { _ = try? repository.checkpoint() }
        checkpoint.start()
        try #require(fileSystem.waitForPausedSyncs(1), "no tranlog sync reached the paused gate")   // the checkpoint's record
        let answers = Answers()
        let suspended = DispatchSemaphore(value: 0)
        Thread {
            _ = try? repository.suspendCheckpoints(for: .seconds(60))
            answers.seqno = repository.appliedPosition.seqno
            suspended.signal()
        }.start()
        try waitUntil { answers.seqno != nil || repository.stateLock.withLock { repository.suspensionWaiting } }
        fileSystem.resumeSyncs()
        suspended.wait()
        #expect(answers.seqno == written.seqno.next, "the suspension returned before the checkpoint's record was written")
        #expect(repository.checkpointSuspension.suspended)
        try repository.close()
    }

    /// Waits for a condition another thread makes true (no fixed sleep; fails after 30 s).
    func waitUntil(_ condition: () -> Bool) throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw RepositoryError.busy("condition not reached within 30 s") }
            sched_yield()
        }
    }
}

extension BackupRestoreTests {
    @Test func checkpointsCannotBeSuspendedInPartialLoggingMode() throws {
        let repository = try openRepository(try initializedFileSystem(logging: .partial))
        let refused = try? RestoreTests().expectFailure { _ = try repository.suspendCheckpoints(for: .seconds(60)) }
        #expect(refused?.description.starts(with: "checkpoints cannot be suspended in partial logging mode") == true)
        #expect(repository.checkpointSuspension == CheckpointSuspensionStatus(suspended: false, secondsRemaining: 0))
        try repository.close()
    }
}

extension BackupRestoreTests {
    /// The logs offered must continue exactly where the backup ends: here the files holding the
    /// records right after the backup are missing from the archive.
    @Test func logsThatDoNotStartWhereTheBackupEndsAreRefused() async throws {
        let fileSystem = try Self.fileSystemWithBackupDirectory()
        let primary = try openRepository(fileSystem, testConfiguration(rotationBytes: 4096))
        for index in 0..<80 { _ = try await primary.commit(put("key-\(index)", String(repeating: "v", count: 100))) }
        let backup = try primary.fullBackup(to: [BackupTarget(path: Self.backupDirectory.appending("full"))], compress: false)
        for index in 80..<200 { _ = try await primary.commit(put("key-\(index)", String(repeating: "w", count: 100))) }
        try primary.close()
        let position = try BackupReader.open([FilePath(backup.files[0])], fileSystem: fileSystem).description.position
        let backupFile = try #require(position.eventID?.fileID)
        let archive = FilePath("/archive")
        try fileSystem.createDirectory(archive)
        for ref in try TranlogDirectory.scan(DataDirectory(nodeRoot).tranlogs, fileSystem: fileSystem).files where ref.fileID.rawValue > backupFile.rawValue + 1 {
            fileSystem.overwrite(archive.appending(ref.fileID.fileName), with: fileSystem.contents(of: ref.path)!)
        }
        try DataDirectory.initialize(FilePath("/restored"), sourceID: nodeSource, loggingMode: .full, fileSystem: fileSystem)
        let restored = try RestoreTests.restoring(fileSystem, root: FilePath("/restored"))
        _ = try restored.restoreBackup(from: [FilePath(backup.files[0])])
        let error = try? RestoreTests().expectFailure { _ = try restored.restoreLogs(from: [archive]) }
        let message = try #require(error?.description)
        #expect(message.contains("the logs do not continue the repository"))
        #expect(message.contains("but seqno \(position.seqno.next) is needed"))
        #expect(restored.status.applied == position, "nothing applied")
        try restored.close()
    }
}

/// Written by one thread before it signals, read by another after it waited.
private final class Answers: @unchecked Sendable {
    var seqno: Seqno?
    var status: RepositoryStatus?
}

/// Restoring another repository's backup onto a new node replaces its content, repository id,
/// epoch history and position in several durable steps. A crash at any of them must leave a node
/// that opens in restore mode, where running the same restore again completes it.
extension BackupRestoreTests {
    @Test func restoringAnotherRepositorysBackupCrashedAtEveryStepCanBeRunAgain() async throws {
        let root = FilePath("/restored")
        let steps = try await CrashStepHarness(
            name: "restore backup",
            setUp: { fileSystem in
                try DataDirectory.initialize(nodeRoot, sourceID: nodeSource, loggingMode: .full, fileSystem: fileSystem)
                try fileSystem.createDirectory(Self.backupDirectory)
                let primary = try openRepository(fileSystem, testConfiguration(rotationBytes: 4096))
                for index in 0..<40 { _ = try await primary.commit(put("key-\(index)", "value-\(index)")) }
                let backup = try primary.fullBackup(to: [BackupTarget(path: Self.backupDirectory.appending("full"))], compress: false)
                let primaryID = primary.config.repositoryID
                try primary.close()
                try DataDirectory.initialize(root, sourceID: SourceID("restored")!, loggingMode: .full, fileSystem: fileSystem)
                let restoring = try RestoreTests.restoring(fileSystem, root: root)
                return (restoring, backup.files.map { FilePath($0) }, primaryID)
            },
            operation: { _, fixture in
                defer { _ = try? fixture.0.close() }
                _ = try fixture.0.restoreBackup(from: fixture.1)
            },
            check: { disk, fixture, crash in
                let (_, files, primaryID) = fixture
                let reopened = try Repository(directory: DataDirectory(root), configuration: testConfiguration(), fileSystem: disk)
                defer { _ = try? reopened.close() }
                #expect(reopened.isRestoring, "\(crash)")
                // One commit point: the node is either the backup's, whole, or still the new node.
                if reopened.config.repositoryID == primaryID {
                    #expect(reopened.status.objectCount == 40, "\(crash)")
                    #expect(reopened.status.restoreStatus.hasPrefix("Restoring from transaction log files"), "\(crash)")
                } else {
                    #expect(!crash.operationCompleted && reopened.status.objectCount == 0, "\(crash)")
                    _ = try reopened.restoreBackup(from: files)
                }
                #expect(reopened.config.repositoryID == primaryID, "\(crash)")
                #expect(reopened.status.objectCount == 40, "\(crash)")
                let tranlogs = try TranlogDirectory.scan(DataDirectory(root).tranlogs, fileSystem: disk).files
                #expect(tranlogs.isEmpty, "the new node's own tranlogs are set aside: \(tranlogs.map(\.path)), \(crash)")
                _ = try reopened.commitRestore()
                _ = try await reopened.commit(put("after", "restore"))
            }
        ).run()
        print("restore backup: crashed after each of its \(steps) durable steps")
    }
}

/// The same restore failing with an I/O error instead of a crash: the process goes on, with the
/// state before the restore in memory. Past the commit point nothing may act on that state (it
/// would write the old node over the switched directory); the same restore run again in that
/// process, or a clean stop and a restart, must find the backup whole.
extension BackupRestoreTests {
    /// A new node in restore mode at `/restored`, and full backups of two other repositories: A with
    /// 40 objects `key-N` = `value-N`, B with 30 objects `key-N` = `other-N`.
    struct TwoBackups {
        static let root = FilePath("/restored")
        let restoring: Repository
        let a: (files: [FilePath], id: RepositoryID)
        let b: (files: [FilePath], id: RepositoryID)

        init(on fileSystem: SimulatedFileSystem) async throws {
            try fileSystem.createDirectory(BackupRestoreTests.backupDirectory)
            a = try await Self.backup(on: fileSystem, at: nodeRoot, objects: 40, value: "value", name: "a")
            b = try await Self.backup(on: fileSystem, at: FilePath("/primary-b"), objects: 30, value: "other", name: "b")
            try DataDirectory.initialize(Self.root, sourceID: SourceID("restored")!, loggingMode: .full, fileSystem: fileSystem)
            restoring = try RestoreTests.restoring(fileSystem, root: Self.root)
        }

        private static func backup(
            on fileSystem: SimulatedFileSystem, at root: FilePath, objects: Int, value: String, name: String
        ) async throws -> (files: [FilePath], id: RepositoryID) {
            try DataDirectory.initialize(root, sourceID: SourceID(name)!, loggingMode: .full, fileSystem: fileSystem)
            let primary = try Repository(directory: DataDirectory(root), configuration: testConfiguration(rotationBytes: 4096), fileSystem: fileSystem)
            for index in 0..<objects { _ = try await primary.commit(put("key-\(index)", "\(value)-\(index)")) }
            let backup = try primary.fullBackup(to: [BackupTarget(path: BackupRestoreTests.backupDirectory.appending(name))], compress: false)
            defer { _ = try? primary.close() }
            return (backup.files.map { FilePath($0) }, primary.config.repositoryID)
        }

        /// Opens the node again and checks it holds exactly one of the two backups, whole.
        static func reopened(_ disk: SimulatedFileSystem, _ fixture: TwoBackups, _ context: String) throws -> Repository {
            let repository = try Repository(directory: DataDirectory(root), configuration: testConfiguration(), fileSystem: disk)
            #expect(repository.isRestoring, "\(context)")
            let (count, value) = repository.config.repositoryID == fixture.a.id ? (40, "value") : (30, "other")
            if repository.config.repositoryID == fixture.a.id || repository.config.repositoryID == fixture.b.id {
                #expect(repository.status.objectCount == count, "\(context)")
                for index in [0, count - 1] {
                    #expect(repository.get(Array("key-\(index)".utf8))?.value == Array("\(value)-\(index)".utf8), "\(context)")
                }
            }
            return repository
        }
    }

    @Test func restoreBackupFailingAtEverySyncLeavesTheBackupOrTheNodeAsItWas() async throws {
        var committedOutcomes = 0
        for syncs in 0... {
            let fileSystem = SimulatedFileSystem()
            let fixture = try await TwoBackups(on: fileSystem)
            let restoring = fixture.restoring
            fileSystem.failSyncs(afterSuccessful: syncs)
            let failure: RepositoryError?
            do { _ = try restoring.restoreBackup(from: fixture.a.files); failure = nil } catch { failure = error }
            fileSystem.stopFailingSyncs()
            guard failure != nil else {
                try restoring.close()
                #expect(committedOutcomes > 0, "some failures came after the commit point")
                print("restore backup: an I/O error at each of its \(syncs) syncs")
                return
            }
            let onDisk = try RestoreStateStore.read(DataDirectory(TwoBackups.root), fileSystem: fileSystem)
            let configOnDisk = try DataDirectory(TwoBackups.root).readConfig(fileSystem: fileSystem)
            let committed = onDisk.backupSwitch != nil || configOnDisk.repositoryID == fixture.a.id
            if committed {
                committedOutcomes += 1
                let pending = RepositoryError.backupSwitchPending(files: fixture.a.files.map(\.string))
                #expect(throws: pending, "sync \(syncs)") { _ = try restoring.restoreLogs() }
                #expect(throws: pending, "sync \(syncs)") { _ = try restoring.commitRestore() }
                #expect(throws: pending, "sync \(syncs)") { _ = try restoring.checkpoint() }
                #expect(pending.description.contains("understudy restore backup \(fixture.a.files[0])"))
                if syncs.isMultiple(of: 2) {
                    // Run again in the same process instead of restarting: it completes the switch.
                    _ = try restoring.restoreBackup(from: fixture.a.files)
                    #expect(restoring.config.repositoryID == fixture.a.id && restoring.status.objectCount == 40, "sync \(syncs)")
                }
            }
            try restoring.close()

            let reopened = try TwoBackups.reopened(fileSystem, fixture, "sync \(syncs)")
            defer { _ = try? reopened.close() }
            if committed {
                #expect(reopened.config.repositoryID == fixture.a.id, "sync \(syncs)")
            } else {
                #expect(reopened.status.objectCount == 0, "the node as it was, sync \(syncs)")
                _ = try reopened.restoreBackup(from: fixture.a.files)
            }
            _ = try reopened.commitRestore()
            _ = try await reopened.commit(put("after", "restore"))
        }
    }

    /// After a switch to backup A fails at its very last sync (the directory is A's, memory is not),
    /// the operator restores backup B instead, in the same process, and the power fails at any step:
    /// the node must come back as A or as B, whole. B's objects are written as a run numbered past
    /// A's, which the directory names until B's own commit point.
    @Test func anotherBackupRestoredAfterAnInterruptedSwitchCrashedAtEveryStep() async throws {
        let scratch = SimulatedFileSystem()
        let counted = try await TwoBackups(on: scratch)
        let before = scratch.syncsAttemptedCount
        _ = try counted.restoring.restoreBackup(from: counted.a.files)
        let lastSync = scratch.syncsAttemptedCount - before - 1
        var outcomes = (a: 0, b: 0)
        let steps = try await CrashStepHarness(
            name: "restore backup B after A's switch failed",
            setUp: { fileSystem in
                let fixture = try await TwoBackups(on: fileSystem)
                fileSystem.failSyncs(afterSuccessful: lastSync)
                #expect(throws: RepositoryError.self) { _ = try fixture.restoring.restoreBackup(from: fixture.a.files) }
                fileSystem.stopFailingSyncs()
                return fixture
            },
            operation: { _, fixture in
                defer { _ = try? fixture.restoring.close() }
                _ = try fixture.restoring.restoreBackup(from: fixture.b.files)
            },
            check: { disk, fixture, crash in
                let reopened = try TwoBackups.reopened(disk, fixture, "\(crash)")
                defer { _ = try? reopened.close() }
                if reopened.config.repositoryID == fixture.a.id {
                    outcomes.a += 1
                    _ = try reopened.restoreBackup(from: fixture.b.files)
                } else {
                    outcomes.b += 1
                }
                #expect(reopened.config.repositoryID == fixture.b.id && reopened.status.objectCount == 30, "\(crash)")
                _ = try reopened.commitRestore()
            }
        ).run()
        print("restore backup B: crashed after each of its \(steps) durable steps; \(outcomes.a) came back as A, \(outcomes.b) as B")
        #expect(outcomes.a > 0 && outcomes.b > 0)
    }
}
