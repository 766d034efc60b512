import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

@testable import Repository

/// A standby checkpoints by the log volume it applied, as a primary does by the volume it wrote:
/// its recovery time and dirty set stay bounded between the timer's checkpoints.
extension RestoreTests {
    @Test func continuousRestoreRequestsACheckpointByAppliedLogVolume() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 90, checkpointAfter: 10)
        try Repository.enterRestoreMode(DataDirectory(nodeRoot), fileSystem: fileSystem)
        var configuration = testConfiguration(rotationBytes: 4096)
        configuration.checkpointLogBytes = 4096
        let repository = try Repository(directory: DataDirectory(nodeRoot), configuration: configuration, fileSystem: fileSystem)
        defer { try? repository.close() }
        let before = repository.status.checkpoint.position.seqno
        #expect(try repository.applyLocalLogs(through: seqnos[89]).seqno == seqnos[89])
        // The timer's interval is an hour (testConfiguration): only the applied volume can trigger it.
        try BackupRestoreTests().waitUntil { repository.status.checkpoint.position.seqno == seqnos[89] }
        #expect(before < seqnos[89])
        #expect(repository.status.checkpoint.logBytesSinceCheckpoint == 0)
    }
}

/// A promote does not wait for a standby's checkpoint in progress: it held `checkpointLock` while
/// writing its run, and commitRestore read MANIFEST under that lock (377 ms of a promote in a
/// benchmark run, for a checkpoint the promote does not need).
extension RestoreTests {
    @Test func commitRestoreDoesNotWaitForACheckpointInProgress() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 60, checkpointAfter: 10)
        let repository = try Self.restoring(fileSystem)
        #expect(try repository.applyLocalLogs(through: seqnos[59]).seqno == seqnos[59])
        // The checkpoint stops at its extent run's sync, holding `checkpointLock`.
        fileSystem.pauseSyncs(only: { $0.hasSuffix(".dbf.tmp") })
        let checkpoint = BackgroundWork { () throws(RepositoryError) in try repository.checkpoint() }
        try #require(fileSystem.waitForPausedSyncs(1), "no sync reached the paused gate")
        #expect(repository.status.checkpoint.inProgress)

        let promote = BackgroundWork { () throws(RepositoryError) in try repository.commitRestore(by: "promote") }
        let promotedFirst = promote.finished(within: 30)
        fileSystem.resumeSyncs()
        #expect(promotedFirst, "commitRestore waited for the checkpoint in progress")
        #expect(promote.finished(within: 30) && checkpoint.finished(within: 30))
        let report = try #require(try promote.result?.get())
        #expect(report.epoch == Epoch(2))
        // The checkpoint landed after the commit point, at a position the restore had applied.
        let switched = try #require(try checkpoint.result?.get())
        #expect(switched.checkpoint.seqno == seqnos[59])
        _ = try await repository.commit(put("after-promote", "written"))
        try repository.close()

        let reopened = try openRepository(fileSystem)
        defer { try? reopened.close() }
        #expect(!reopened.isRestoring)
        #expect(reopened.status.epoch == Epoch(2))
        #expect(reopened.status.objectCount == 61)
        #expect(reopened.get(Array("after-promote".utf8))?.value == Array("written".utf8))
    }
}
