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
