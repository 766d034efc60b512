import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting
@testable import Repository

/// Logs of another timeline are refused even where they only overlap the repository's position:
/// before, records at or below the position were skipped unchecked, so a forked archive "succeeded,
/// applying no records".
@Suite struct ForkedArchiveTests {
    @Test("an archive whose epoch forked below the repository's position is refused, naming both epochs and the fork seqno")
    func overlappingForkedArchiveIsRefused() async throws {
        let fileSystem = try initializedFileSystem()
        let primary = try openRepository(fileSystem, testConfiguration(rotationBytes: 4096))
        _ = try await primary.commit(put("seed", "0"))
        try primary.checkpoint()
        fileSystem.copyTree(from: nodeRoot, to: FilePath("/B"))
        for index in 0..<50 { _ = try await primary.commit(put("p-\(index)", String(repeating: "p", count: 80))) }
        try primary.close()
        fileSystem.copyTree(from: DataDirectory(nodeRoot).tranlogs, to: FilePath("/archiveP"))

        // C: backup B committed at once (epoch 2) and written a little.
        fileSystem.copyTree(from: FilePath("/B"), to: FilePath("/C"))
        let nodeC = try RestoreTests.restoring(fileSystem, root: FilePath("/C"))
        let fork = try nodeC.commitRestore()
        for index in 0..<5 { _ = try await nodeC.commit(put("c-\(index)", "c")) }
        let lastOfC = nodeC.status.applied.seqno
        try nodeC.close()

        // E: backup B rolled forward with the primary's logs, past every seqno C wrote.
        fileSystem.copyTree(from: FilePath("/B"), to: FilePath("/E"))
        let nodeE = try RestoreTests.restoring(fileSystem, root: FilePath("/E"))
        defer { _ = try? nodeE.close() }
        _ = try nodeE.restoreLogs(from: [FilePath("/archiveP")])
        let before = nodeE.status.applied
        try #require(before.seqno > lastOfC, "E stands past C's records: they only overlap")

        let refused = try RestoreTests().expectFailure { _ = try nodeE.restoreLogs(from: [DataDirectory(FilePath("/C")).tranlogs]) }
        let message = refused.description
        #expect(message.contains("begins epoch \(fork.epoch) as a branch of epoch 1 after seqno \(fork.epochBegin.seqno.rawValue - 1)"), "\(message)")
        #expect(message.contains("seqno \(fork.epochBegin.seqno) is in epoch 1"), "\(message)")
        #expect(message.contains("forked after seqno \(fork.epochBegin.seqno.rawValue - 1)"), "\(message)")
        #expect(nodeE.status.applied == before, "nothing was applied")
        #expect(nodeE.status.epoch == .first)
    }

    @Test("a tranlog with a damaged header stops commitRestore naming the file; it is not set aside as another repository's")
    func damagedHeaderStopsTheCommit() async throws {
        let (fileSystem, _) = try await RestoreTests.crashedPrimary(commits: 40, checkpointAfter: 20)
        let repository = try RestoreTests.restoring(fileSystem)
        defer { _ = try? repository.close() }
        _ = try repository.restoreLogs()
        let tranlogs = DataDirectory(nodeRoot).tranlogs
        let first = try #require(try TranlogDirectory.scan(tranlogs, fileSystem: fileSystem).files.first)
        var damaged = try #require(fileSystem.contents(of: first.path))
        damaged[0] ^= 0xFF
        fileSystem.overwrite(first.path, with: damaged)
        let refused = try RestoreTests().expectFailure { _ = try repository.commitRestore() }
        #expect(refused.description.contains(first.path.string), "\(refused)")
        #expect(repository.isRestoring)
        #expect(fileSystem.contents(of: first.path) == damaged, "the file stays where it was")
    }
}
