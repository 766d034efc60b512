import Testing
import Tranlog
import UnderstudyTesting
@testable import Repository

/// Partial logging with an archive: no tranlog is removed before the archiver says it is archived.
@Suite struct TranlogRetentionTests {
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

        repository.archiveProgress.archived(below: FileID(2))
        _ = try await repository.commit(put("again", "2"))
        try repository.checkpoint()
        #expect(try TranlogDirectory.scan(tranlogs, fileSystem: fileSystem).files.first?.fileID == FileID(2), "only tranlog1 was archived")
        try repository.close()
    }
}
