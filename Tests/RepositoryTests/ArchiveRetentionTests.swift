import Logging
import Testing
import Tranlog
import UnderstudyTesting
@testable import Repository

/// Partial logging with an archive: no tranlog is removed before the archiver says it is archived.
@Suite struct ArchiveRetentionTests {
    @Test func partialLoggingKeepsTranlogsNotYetArchived() async throws {
        let fileSystem = try initializedFileSystem(logging: .partial)
        var configuration = testConfiguration(rotationBytes: 4096)
        configuration.archivesTranlogs = true
        let repository = try openRepository(fileSystem, configuration)
        let tranlogs = DataDirectory(nodeRoot).tranlogs
        for index in 0..<200 { _ = try await repository.commit(put("key-\(index % 20)", String(repeating: "v", count: 100))) }
        let before = try TranlogDirectory.scan(tranlogs, fileSystem: fileSystem).files.map(\.fileID)
        #expect(before.count > 3)

        _ = try await repository.commit(put("again", "1"))
        let manifest = try #require(try repository.checkpoint())
        #expect(manifest.oldestFileIDNeeded > FileID(2))
        #expect(try TranlogDirectory.scan(tranlogs, fileSystem: fileSystem).files.first?.fileID == FileID(1), "nothing archived yet")

        try repository.archiveProgress.archived(below: FileID(2))
        _ = try await repository.commit(put("again", "2"))
        try repository.checkpoint()
        #expect(try TranlogDirectory.scan(tranlogs, fileSystem: fileSystem).files.first?.fileID == FileID(2), "only tranlog1 was archived")
        try repository.close()
    }

    /// The archiver's progress outlives the node: a purge on the stopped node keeps what is not
    /// archived; a node started without --archive-dir drops that hold.
    @Test func aStoppedNodesPurgeKeepsTranlogsNotYetArchived() async throws {
        let fileSystem = try initializedFileSystem()
        var configuration = testConfiguration(rotationBytes: 4096)
        configuration.archivesTranlogs = true
        var repository = try openRepository(fileSystem, configuration)
        let directory = DataDirectory(nodeRoot)
        for index in 0..<200 { _ = try await repository.commit(put("key-\(index % 20)", String(repeating: "v", count: 100))) }
        try repository.archiveProgress.archived(below: FileID(3))
        try repository.checkpoint()
        try repository.close()

        var stopped = try StoppedRepositoryLogs(directory, fileSystem: fileSystem, logger: Logger(label: "test"))
        let report = try stopped.purge(through: nil, force: false, dryRun: true)
        stopped.close()
        #expect(report.removed.map(\.fileID) == [FileID(1), FileID(2)])
        #expect(report.keptBecause.contains { $0.contains("has not copied tranlog3.dbf") }, "\(report.keptBecause)")

        configuration.archivesTranlogs = false
        repository = try openRepository(fileSystem, configuration)
        try repository.close()
        stopped = try StoppedRepositoryLogs(directory, fileSystem: fileSystem, logger: Logger(label: "test"))
        defer { stopped.close() }
        #expect(try stopped.purge(through: nil, force: false, dryRun: true).removed.count > 2)
    }
}
