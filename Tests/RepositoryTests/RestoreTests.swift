import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting
@testable import Repository

/// Restore mode, log replay to the end / a file / a time / a seqno, the errors of the reference
/// chapter, commitRestore, and the fork-in-time scenario. Backups here are extent snapshots: a copy
/// of a data directory taken right after a checkpoint (what `backup snapshot` makes).
@Suite struct RestoreTests {
    static let tranlogs = DataDirectory(nodeRoot).tranlogs

    /// A primary with `commits` commits (keys key-0…), rotating every 4 KiB, checkpointed after
    /// `checkpointAfter` of them, then crashed (so the tranlogs hold more than the extents).
    static func crashedPrimary(commits: Int, checkpointAfter: Int) async throws -> (SimulatedFileSystem, [Seqno]) {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem, testConfiguration(rotationBytes: 4096))
        var seqnos: [Seqno] = []
        for index in 0..<commits {
            seqnos.append(try await repository.commit(put("key-\(index)", "value-\(index)-" + String(repeating: "x", count: 60))).seqno)
            if index + 1 == checkpointAfter { try repository.checkpoint() }
        }
        let survivor = fileSystem.crashed(seed: 1)
        _ = try? repository.close()
        return (survivor, seqnos)
    }

    static func restoring(_ fileSystem: SimulatedFileSystem, root: FilePath = nodeRoot) throws -> Repository {
        try Repository.enterRestoreMode(DataDirectory(root), fileSystem: fileSystem)
        return try Repository(directory: DataDirectory(root), configuration: testConfiguration(rotationBytes: 4096), fileSystem: fileSystem)
    }

    @Test func restoreModeRefusesCommitsAndSurvivesRestarts() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 40, checkpointAfter: 20)
        var repository = try Self.restoring(fileSystem)
        let refused = await expectRepositoryError { _ = try await repository.commit(put("new", "x")) }
        #expect(refused?.description == Repository.restoreModeRefusal)
        #expect(repository.status.restoring)
        let line = repository.status.restoreStatus
        #expect(line.hasPrefix("Restoring from transaction log files, restored to 20"))
        #expect(line.hasSuffix("record = \(seqnos[19].next) oldest fileId = \(repository.status.applied.eventID!.fileID.rawValue)"))
        #expect(repository.status.objectCount == 20, "restore mode does not replay the local logs by itself")
        try repository.close()
        repository = try openRepository(fileSystem)
        #expect(repository.isRestoring, "restore mode belongs to the repository, not the process")
        #expect(repository.status.restoreStatus == line)
        try repository.close()
    }

    @Test func restoreFromCurrentLogsThenCommitOpensANewEpoch() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 120, checkpointAfter: 30)
        let repository = try Self.restoring(fileSystem)
        let report = try repository.restoreLogs()
        #expect(report.reachedEndOfLogs)
        #expect(report.commitsApplied == 90)
        #expect(report.restoredTo.seqno >= seqnos.last!)
        #expect(report.message.hasPrefix("Restore from transaction log(s) succeeded"))
        #expect(repository.status.objectCount == 120)
        let committed = try repository.commitRestore()
        #expect(committed.warning == nil)
        #expect(committed.epoch == Epoch(2) && committed.parentEpoch == .first)
        #expect(committed.epochBegin.seqno == report.restoredTo.seqno.next)
        let next = try await repository.commit(put("after", "restore"))
        #expect(next.epoch == Epoch(2))
        #expect(!repository.status.restoring && repository.status.restoreStatus == "Restore is not active")
        try repository.close()
        // The new epoch is recovered like any log: its file follows the restored one by its header chain.
        let reopened = try openRepository(fileSystem)
        #expect(reopened.status.objectCount == 121)
        #expect(reopened.status.epoch == Epoch(2))
        try reopened.close()
        var cursor = TranlogCursor(directory: try TranlogDirectory.scan(Self.tranlogs, fileSystem: fileSystem), fileSystem: fileSystem)
        while try cursor.next() != nil {}
    }

    @Test func pointInTimeSeqnoFileAndDryRun() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 100, checkpointAfter: 10)
        let repository = try Self.restoring(fileSystem)
        let dry = try repository.restoreLogs(to: .seqno(seqnos[49]), dryRun: true)
        #expect(dry.dryRun && dry.lastSeqno == seqnos[49])
        #expect(repository.status.objectCount == 10, "a dry run changes nothing")

        let bySeqno = try repository.restoreLogs(to: .seqno(seqnos[49]))
        #expect(bySeqno.restoredTo.seqno == seqnos[49] && !bySeqno.reachedEndOfLogs)
        #expect(repository.status.objectCount == 50)

        let firstFileAfter = try #require(bySeqno.restoredTo.eventID?.fileID)
        let byFile = try repository.restoreLogs(to: .endOfFile(firstFileAfter))
        #expect(byFile.restoredTo.eventID?.fileID == firstFileAfter)

        // Every commit at or before the time is applied, none after: exactly, not at a checkpoint.
        var cursor = TranlogCursor(directory: try TranlogDirectory.scan(Self.tranlogs, fileSystem: fileSystem), fileSystem: fileSystem)
        var times: [Seqno: Timestamp] = [:]
        while let record = try cursor.next() { times[record.seqno] = record.header.time }
        let cutoff = try #require(times[seqnos[79]])
        let byTime = try repository.restoreLogs(to: .time(cutoff))
        #expect(byTime.restoredTo.seqno >= seqnos[79] && byTime.restoredTo.seqno < seqnos[80])
        #expect(repository.get(bytes("key-79")) != nil && repository.get(bytes("key-80")) == nil)

        let committed = try repository.commitRestore()
        #expect(committed.warning == "commitRestore not immediately preceded by a complete log restore: some transactions may not be restored")
        #expect(!committed.setAside.isEmpty, "the logs after the restore point are set aside, not deleted")
        for path in committed.setAside { #expect(fileSystem.fileExists(FilePath(path))) }
        try repository.close()
    }

    @Test func missingLogStopsPreciselyAndTheRestoreResumesOnceSupplied() async throws {
        let (fileSystem, _) = try await Self.crashedPrimary(commits: 150, checkpointAfter: 5)
        let files = try TranlogDirectory.scan(Self.tranlogs, fileSystem: fileSystem).files
        try #require(files.count >= 4)
        let missing = files[2]
        let saved = try #require(fileSystem.contents(of: missing.path))
        try fileSystem.removeFile(missing.path)
        let repository = try Self.restoring(fileSystem)
        let error = try #require(try? expectFailure { _ = try repository.restoreLogs() })
        #expect(error.description.hasPrefix("Restore from transaction log(s) failed: end of all logs reached after fileId \(files[1].fileID) before last log for recovery \(files.last!.fileID) found"))
        #expect(error.description.contains("Restored through"))
        #expect(repository.status.restoreStatus.contains("nextFileId = \(files[1].fileID.rawValue)"))
        fileSystem.overwrite(missing.path, with: saved)
        let resumed = try repository.restoreLogs()
        #expect(resumed.reachedEndOfLogs)
        #expect(repository.status.objectCount == 150)
        try repository.close()
    }

    @Test func truncatedLogIsNamedAsTheManualDoes() async throws {
        let (fileSystem, _) = try await Self.crashedPrimary(commits: 150, checkpointAfter: 5)
        let files = try TranlogDirectory.scan(Self.tranlogs, fileSystem: fileSystem).files
        let truncated = files[1]
        let bytes = try #require(fileSystem.contents(of: truncated.path))
        fileSystem.overwrite(truncated.path, with: Array(bytes.dropLast(100)))
        let repository = try Self.restoring(fileSystem)
        let error = try #require(try? expectFailure { _ = try repository.restoreLogs() })
        #expect(error.description.contains("log with fileId \(truncated.fileID) is truncated or corrupt, or log \(files[2].fileID) is corrupt"))
        try repository.close()
    }

    @Test func logsOfAnotherRepositoryAreRefused() async throws {
        let (fileSystem, _) = try await Self.crashedPrimary(commits: 20, checkpointAfter: 20)
        let foreign = FilePath("/foreign")
        try DataDirectory.initialize(foreign, sourceID: nodeSource, loggingMode: .full, fileSystem: fileSystem)
        let repository = try Self.restoring(fileSystem)
        let error = try #require(try? expectFailure { _ = try repository.restoreLogs(from: [DataDirectory(foreign).tranlogs]) })
        #expect(error.description.contains("belongs to repository"))
        #expect(error.description.contains("not \(repository.config.repositoryID)"))
        try repository.close()
    }

    /// The reference chapter's scenario: backup1; logs 1–3; backup2; logs 4–6; restore backup2 and
    /// commit without logs 4–6; logs 7–9; restore backup1 and replay 1–9. Understudy refuses at the
    /// first record of the other branch, names both epochs, the fork seqno and the file, keeps the
    /// repository as it was before that record — and replaying 1–6 alone works.
    @Test func forkInTimeScenarioFromTheReferenceManual() async throws {
        let fileSystem = try initializedFileSystem()
        var primary = try openRepository(fileSystem, testConfiguration(rotationBytes: 4096))
        func snapshot(_ name: String) throws -> FilePath {
            try primary.checkpoint()
            fileSystem.copyTree(from: nodeRoot, to: FilePath("/" + name))
            return FilePath("/" + name)
        }
        func writeLogs(_ range: Range<Int>) async throws {
            for index in range { _ = try await primary.commit(put("key-\(index % 17)", "value-\(index)-" + String(repeating: "y", count: 100))) }
        }
        _ = try await primary.commit(put("seed", "0"))
        let backup1 = try snapshot("backup1")
        try await writeLogs(0..<40)                        // logs 1–3 (roughly)
        let backup2 = try snapshot("backup2")
        try await writeLogs(40..<80)                       // logs 4–6: timeline A
        try primary.close()
        let timelineA = FilePath("/archiveA")
        fileSystem.copyTree(from: Self.tranlogs, to: timelineA)

        // Restore backup2 over the primary's directory and commit without replaying logs 4–6.
        for ref in try TranlogDirectory.scan(DataDirectory(backup2).tranlogs, fileSystem: fileSystem).files {
            fileSystem.overwrite(Self.tranlogs.appending(ref.fileID.fileName), with: fileSystem.contents(of: ref.path)!)
        }
        for name in ["extents", "epochs"] { fileSystem.copyTree(from: backup2.appending(name), to: nodeRoot.appending(name)) }
        fileSystem.overwrite(nodeRoot.appending("epochs"), with: fileSystem.contents(of: backup2.appending("epochs"))!)
        let restoredB2 = try Self.restoring(fileSystem)
        let commit = try restoredB2.commitRestore()
        #expect(commit.warning != nil)
        primary = restoredB2
        try await writeLogs(80..<120)                      // logs 7–9: timeline B (epoch 2)
        try primary.close()
        let timelineBFiles = try TranlogDirectory.scan(Self.tranlogs, fileSystem: fileSystem).files.filter { $0.fileID >= commit.epochBegin.eventID!.fileID }
        let timelineB = FilePath("/archiveB")
        try fileSystem.createDirectory(timelineB)
        for ref in timelineBFiles { fileSystem.overwrite(timelineB.appending(ref.fileID.fileName), with: fileSystem.contents(of: ref.path)!) }
        let firstOfB = try #require(timelineBFiles.first)
        #expect(timelineBFiles.allSatisfy { ref in
            try! TranlogDirectory.scan(timelineA, fileSystem: fileSystem).files.allSatisfy { $0.fileID < ref.fileID }
        }, "the new epoch's files are numbered above every file of the abandoned timeline")

        // Restore backup1 and replay 1–9 (both timelines): refused at the first file of B.
        fileSystem.copyTree(from: backup1, to: FilePath("/backup1-again"))
        let endOfA = try TranlogDirectory.scan(timelineA, fileSystem: fileSystem).files.last!
        let replay = try Self.restoring(fileSystem, root: backup1)
        let error = try #require(try? expectFailure { _ = try replay.restoreLogs(from: [timelineA, timelineB]) })
        let message = error.description
        #expect(message.contains("fork in time: \(timelineB.appending(firstOfB.fileID.fileName).string) (fileId \(firstOfB.fileID)) begins epoch 2"))
        #expect(message.contains("branched from the history after seqno \(commit.epochBegin.seqno.rawValue - 1)"))
        #expect(message.contains("continue epoch 1 through seqno"))
        let stoppedAt = replay.status.applied
        #expect(stoppedAt.epoch == .first && stoppedAt.eventID?.fileID == endOfA.fileID, "everything of timeline A applied, nothing of B")
        #expect(replay.status.epoch == .first)
        try replay.close()

        // Replaying 1–6 alone into (a fresh copy of) backup1 works.
        let clean = try Self.restoring(fileSystem, root: FilePath("/backup1-again"))
        let whole = try clean.restoreLogs(from: [timelineA])
        #expect(whole.reachedEndOfLogs && whole.restoredTo == stoppedAt)
        try clean.close()
    }

    func expectFailure(_ body: () throws -> Void) throws -> RepositoryError {
        do {
            try body()
        } catch let error as RepositoryError {
            return error
        }
        throw RepositoryError.invalidTransaction("expected the operation to fail")
    }
}

extension RestoreTests {
    /// A standby applies its mirror in steps as records arrive; the scheduler's checkpoints (here:
    /// an explicit one) persist the position, and a restart resumes from it.
    @Test func continuousRestoreAppliesTheMirrorInSteps() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 90, checkpointAfter: 10)
        var repository = try Self.restoring(fileSystem)
        #expect(try repository.applyLocalLogs(through: seqnos[39]).seqno == seqnos[39])
        #expect(repository.status.objectCount == 40)
        #expect(try repository.applyLocalLogs(through: seqnos[19]).seqno == seqnos[39], "never backwards")
        try repository.checkpoint()
        try repository.close()
        repository = try openRepository(fileSystem)
        #expect(repository.status.applied.seqno == seqnos[39] && repository.isRestoring)
        #expect(try repository.applyLocalLogs(through: seqnos[89]).seqno == seqnos[89])
        #expect(repository.status.objectCount == 90)
        let promoted = try repository.commitRestore()
        #expect(promoted.epochBegin.seqno == seqnos[89].next)
        try repository.close()
    }

    @Test func continuousRestoreOneRecordAtATimeResumesAndCrossesRotations() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 90, checkpointAfter: 10)
        let repository = try Self.restoring(fileSystem)
        defer { try? repository.close() }
        for (index, seqno) in seqnos.enumerated().dropFirst(10) {
            #expect(try repository.applyLocalLogs(through: seqno).seqno == seqno)
            #expect(repository.status.objectCount == index + 1)
        }
        #expect(repository.status.applied.eventID!.fileID > FileID(2), "the steps crossed rotations")
        #expect(repository.get(Array("key-89".utf8))?.value == Array(("value-89-" + String(repeating: "x", count: 60)).utf8))
    }

    /// A step that applied a file's fileEnd resumes at the next file's start (its header chained to
    /// the fileEnd's seqno and CRC) instead of re-reading the file just applied: a standby's rotation
    /// used to re-read 64 MiB. Observable here: damage in the finished file no longer stops the step.
    @Test func afterAFileEndTheNextStepStartsInTheNextFile() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 90, checkpointAfter: 10)
        let repository = try Self.restoring(fileSystem)
        defer { try? repository.close() }
        #expect(try repository.applyLocalLogs(through: seqnos[10]).seqno == seqnos[10])
        var cursor = TranlogCursor(directory: try TranlogDirectory.scan(Self.tranlogs, fileSystem: fileSystem), fileSystem: fileSystem)
        var fileEnd: TranlogRecord?
        while fileEnd == nil, let record = try cursor.next() {
            if record.seqno > seqnos[10], record.header.kind == .fileEnd { fileEnd = record }
        }
        let end = try #require(fileEnd)
        #expect(try repository.applyLocalLogs(through: end.seqno).seqno == end.seqno)

        let finished = Self.tranlogs.appending(end.eventID.fileID.fileName)
        var bytes = try fileSystem.readFile(finished)
        bytes[FileHeader.size + 10] ^= 0xFF
        fileSystem.overwrite(finished, with: bytes)
        let next = try #require(seqnos.first { $0 > end.seqno })
        #expect(try repository.applyLocalLogs(through: next).seqno == next)
        #expect(repository.status.applied.eventID?.fileID == end.eventID.fileID.next)

        // The same when one step reads on from the middle of a file through its fileEnd into the next.
        var laterEnd: TranlogRecord?
        while laterEnd == nil, let record = try cursor.next() {
            if record.header.kind == .fileEnd { laterEnd = record }
        }
        let second = try #require(laterEnd)
        let middle = Self.tranlogs.appending(second.eventID.fileID.fileName)
        var middleBytes = try fileSystem.readFile(middle)
        middleBytes[FileHeader.size + 10] ^= 0xFF
        fileSystem.overwrite(middle, with: middleBytes)
        let beyond = try #require(seqnos.first { $0 > second.seqno })
        #expect(try repository.applyLocalLogs(through: beyond).seqno == beyond)
    }

    @Test func aResumedStepStillReportsDamageInAnOlderFile() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 90, checkpointAfter: 10)
        let repository = try Self.restoring(fileSystem)
        defer { try? repository.close() }
        #expect(try repository.applyLocalLogs(through: seqnos[10]).seqno == seqnos[10])
        let position = repository.status.applied.eventID!
        let file = Self.tranlogs.appending(position.fileID.fileName)
        var bytes = try fileSystem.readFile(file)
        bytes[bytes.count - 5] ^= 0xFF
        fileSystem.overwrite(file, with: bytes)
        let error = await expectRepositoryError { _ = try repository.applyLocalLogs(through: seqnos[89]) }
        #expect(error?.description.contains(position.fileID.fileName) == true, "\(String(describing: error))")
        #expect(repository.status.applied.seqno < seqnos[89])
    }
}
