import Foundation
import Repository
import SystemPackage
import Testing
import Tranlog
import Transport
import UnderstudyTesting

@testable import Node

/// A primary serving standbys answers `GET /status` while a checkpoint is in progress. Its status
/// listed the tranlog kept for standbys on the loop thread, and read MANIFEST there under the lock a
/// checkpoint holds while it writes its run: the loop, and every socket on it, waited for the
/// checkpoint (most of a second under load).
@Suite struct StatusDuringCheckpointTests {

    @Test func aPrimaryServingStandbysAnswersStatusDuringACheckpoint() throws {
        let fileSystem = SimulatedFileSystem()
        let directory = DataDirectory(FilePath("/status-during-checkpoint/data"))
        try fileSystem.createDirectory(directory.root.removingLastComponent())
        try DataDirectory.initialize(directory.root, sourceID: SourceID("status-node")!, loggingMode: .full, fileSystem: fileSystem)
        let (node, client) = try NodeFixture.start(directory) { configuration in
            configuration.fileSystem = fileSystem
            configuration.replicationKeyFile = PromoteCrashTests.keyFile
            configuration.replicationAddress = SocketAddress(host: "127.0.0.1", port: 0)
            configuration.repository.checkpointInterval = .seconds(3600)
            configuration.repository.checkpointLogBytes = 1 << 40
        }
        defer {
            fileSystem.resumeSyncs()
            client.close()
            _ = try? node.stop()
        }
        for index in 0..<20 { _ = try client.put(key: Array("key-\(index)".utf8), value: Array("value \(index)".utf8)) }

        // The checkpoint stops at its extent run's sync, holding `checkpointLock`.
        fileSystem.pauseSyncs(only: { $0.hasSuffix(".dbf.tmp") })
        let checkpoint = BackgroundWork { () throws(RepositoryError) in try node.repository.checkpoint() }
        try #require(fileSystem.waitForPausedSyncs(1), "no sync reached the paused gate")

        // The client's 10 s timeout fails the test if the status waits for the checkpoint.
        let status = try client.status()
        #expect(status.repository.checkpoint.inProgress)
        #expect(status.standbys?.isEmpty == true)
        #expect(status.retention?.retainedBytes == 0)
        #expect(try client.get(key: Array("key-7".utf8))?.value == Array("value 7".utf8))
        // `checkpoints status` and `resume` answer too (resume off the loop: it waits for the lock).
        let token = try AdminToken.read(directory, fileSystem: fileSystem)
        #expect(try !client.checkpointSuspension(token: token).suspended)
        let resumed = BackgroundWork { () throws -> CheckpointResumeReply in
            let client = try NodeClient(address: node.httpAddress, timeout: .seconds(30), logger: quietLogger)
            defer { client.close() }
            return try client.resumeCheckpoints(token: token)
        }
        #expect(try client.checkpointSuspension(token: token).suspended == false)

        fileSystem.resumeSyncs()
        #expect(checkpoint.finished(within: 30) && resumed.finished(within: 30))
        #expect(try resumed.result?.get().wereStillSuspended == false)
        let switched = try #require(try checkpoint.result?.get())
        #expect(switched.checkpoint.seqno == status.repository.applied.seqno)
    }
}
