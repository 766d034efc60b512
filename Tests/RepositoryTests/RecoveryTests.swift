import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting
@testable import Repository

/// The repository against a model (a plain dictionary) under random operations, checkpoints, run
/// merges, clean restarts and simulated power losses: after every restart its content equals the
/// model of the acknowledged commits. Seeds print; `UNDERSTUDY_SEED` replays, `UNDERSTUDY_SOAK=1`
/// runs many.
@Suite struct RecoveryTests {
    static let seeds = testSeeds(ci: 4, soak: 100)

    @Test(arguments: seeds)
    func recoveryMatchesTheModel(seed: UInt64) async throws {
        print("RecoveryTests seed \(seed) (replay with UNDERSTUDY_SEED=\(seed))")
        var random = SeededRandom(seed: seed)
        var fileSystem = try initializedFileSystem()
        let configuration = testConfiguration(maxRuns: 2, rotationBytes: 4096)
        var repository = try openRepository(fileSystem, configuration)
        var model: [[UInt8]: [UInt8]] = [:]
        for step in 0..<400 {
            let roll = random.next() % 100
            if roll < 6 {
                try repository.checkpoint()
            } else if roll < 8 {
                try repository.close()
                repository = try openRepository(fileSystem, configuration)
                try expectEqual(repository, model, "after a clean restart at step \(step), seed \(seed)")
            } else if roll < 10 {
                // Power loss: everything acknowledged is synced; the old process is abandoned.
                let survivor = fileSystem.crashed(seed: random.next())
                _ = try? repository.close()
                fileSystem = survivor
                repository = try openRepository(fileSystem, configuration)
                try expectEqual(repository, model, "after a crash at step \(step), seed \(seed)")
            } else {
                let transaction = Self.randomTransaction(&random)
                _ = try await repository.commit(transaction)
                for operation in transaction.operations {
                    switch operation {
                    case .put(let key, let value): model[key] = value
                    case .delete(let key): model[key] = nil
                    }
                }
            }
        }
        try repository.close()
        repository = try openRepository(fileSystem, configuration)
        try expectEqual(repository, model, "at the end, seed \(seed)")
        try repository.close()
    }

    static func randomTransaction(_ random: inout SeededRandom) -> Transaction {
        let count = 1 + Int(random.next() % 4)
        return Transaction(
            operations: (0..<count).map { _ in
                let key = Array("key-\(random.next() % 60)".utf8)
                if random.next() % 4 == 0 { return .delete(key: key) }
                return .put(key: key, value: [UInt8](repeating: UInt8(truncatingIfNeeded: random.next()), count: Int(random.next() % 300)))
            })
    }

    func expectEqual(_ repository: Repository, _ model: [[UInt8]: [UInt8]], _ context: String) throws {
        let table = repository.snapshot().table
        #expect(table.count == model.count, "object count, \(context)")
        for (key, value) in model {
            #expect(table[key]?.value == value, "key \(KeyText.display(key)), \(context)")
        }
    }

    @Test func partialLoggingRemovesTranlogsTheCheckpointNoLongerNeeds() async throws {
        let fileSystem = try initializedFileSystem(logging: .partial)
        let repository = try openRepository(fileSystem, testConfiguration(rotationBytes: 4096))
        for index in 0..<200 { _ = try await repository.commit(put("key-\(index % 20)", String(repeating: "v", count: 100))) }
        let before = try TranlogDirectory.scan(DataDirectory(nodeRoot).tranlogs, fileSystem: fileSystem).files
        let manifest = try #require(try repository.checkpoint())
        let after = try TranlogDirectory.scan(DataDirectory(nodeRoot).tranlogs, fileSystem: fileSystem).files
        #expect(before.count > 3)
        #expect(after.first?.fileID == manifest.oldestFileIDNeeded)
        #expect(after.count < before.count)
        try repository.close()
        let reopened = try openRepository(fileSystem)
        #expect(reopened.status.objectCount == 20)
        try reopened.close()
    }

    @Test func fullLoggingKeepsEveryTranlog() async throws {
        let fileSystem = try initializedFileSystem(logging: .full)
        let repository = try openRepository(fileSystem, testConfiguration(rotationBytes: 4096))
        for index in 0..<200 { _ = try await repository.commit(put("key-\(index % 20)", String(repeating: "v", count: 100))) }
        try repository.checkpoint()
        let files = try TranlogDirectory.scan(DataDirectory(nodeRoot).tranlogs, fileSystem: fileSystem).files
        #expect(files.first?.fileID == FileID(1))
        try repository.close()
    }

    @Test func cleanShutdownIsRecordedAndClearedOnOpen() async throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem)
        _ = try await repository.commit(put("a", "1"))
        try repository.close()
        let extents = DataDirectory(nodeRoot).extents
        #expect(try ManifestStore.read(directory: extents, fileSystem: fileSystem)?.cleanShutdown == true)
        let last = try readAll(fileSystem).last
        #expect(last?.header.kind == .shutdown)
        let reopened = try openRepository(fileSystem)
        #expect(try ManifestStore.read(directory: extents, fileSystem: fileSystem)?.cleanShutdown == false)
        try reopened.close()
    }

    @Test func missingTranlogNeededByRecoveryIsNamed() async throws {
        let fileSystem = try initializedFileSystem(logging: .full)
        let repository = try openRepository(fileSystem, testConfiguration(rotationBytes: 4096))
        for index in 0..<100 { _ = try await repository.commit(put("key-\(index)", String(repeating: "v", count: 100))) }
        let manifest = try #require(try repository.checkpoint())
        for index in 0..<100 { _ = try await repository.commit(put("more-\(index)", "v")) }
        let crashed = fileSystem.crashed(seed: 7)
        _ = try? repository.close()
        let needed = DataDirectory(nodeRoot).tranlogs.appending(manifest.oldestFileIDNeeded.fileName)
        try crashed.removeFile(needed)
        do {
            _ = try openRepository(crashed)
            Issue.record("recovery without a needed tranlog must fail")
        } catch let error as RepositoryError {
            #expect(error.description.starts(with: "recovery needs \(manifest.oldestFileIDNeeded.fileName) in /node/tranlogs"))
        }
    }

    @Test func corruptManifestRefusesToStartNamingTheFile() throws {
        let fileSystem = try initializedFileSystem()
        let path = DataDirectory(nodeRoot).extents.appending("MANIFEST")
        var damaged = try #require(fileSystem.contents(of: path))
        damaged[damaged.count / 2] ^= 0x20
        fileSystem.overwrite(path, with: damaged)
        do {
            _ = try openRepository(fileSystem)
            Issue.record("a corrupt MANIFEST must be refused")
        } catch let error as RepositoryError {
            #expect(error.description.contains("MANIFEST"))
        }
    }

    func readAll(_ fileSystem: SimulatedFileSystem) throws -> [TranlogRecord] {
        var cursor = TranlogCursor(directory: try TranlogDirectory.scan(DataDirectory(nodeRoot).tranlogs, fileSystem: fileSystem), fileSystem: fileSystem)
        var records: [TranlogRecord] = []
        while let record = try cursor.next() { records.append(record) }
        return records
    }
}

@Suite struct ExtentMaintenanceTests {
    @Test func leftoversOfAnInterruptedCheckpointAreRemovedAndLiveRunsKept() async throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem)
        _ = try await repository.commit(put("a", "1"))
        let manifest = try #require(try repository.checkpoint())
        try repository.close()
        let extents = DataDirectory(nodeRoot).extents
        let orphan = extents.appending(ExtentRunSummary.fileName(generation: 99))
        fileSystem.overwrite(orphan, with: bytes("never switched to"))
        fileSystem.overwrite(extents.appending("MANIFEST.tmp"), with: bytes("half written"))
        let reopened = try openRepository(fileSystem)
        #expect(!fileSystem.fileExists(orphan))
        #expect(!fileSystem.fileExists(extents.appending("MANIFEST.tmp")))
        for run in manifest.runs { #expect(fileSystem.fileExists(extents.appending(run.fileName))) }
        #expect(reopened.get(bytes("a"))?.value == bytes("1"))
        try reopened.close()
    }

    @Test func inspectionReportsTheCheckpointAndExactObjectCount() async throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem, testConfiguration(maxRuns: 8))
        for index in 0..<10 { _ = try await repository.commit(put("key-\(index)", "v")) }
        try repository.checkpoint()
        _ = try await repository.commit(Transaction(operations: [.delete(key: bytes("key-3")), .put(key: bytes("key-0"), value: bytes("w"))]))
        let second = try #require(try repository.checkpoint())
        let report = try ExtentInspection.inspect(DataDirectory(nodeRoot), fileSystem: fileSystem)
        #expect(report.objectCount == 9, "the tombstone in the newer run hides key-3")
        #expect(report.runs.count == 2)
        #expect(report.checkpoint == second.checkpoint)
        #expect(report.cleanShutdown == false)
        try repository.close()
        #expect(try ExtentInspection.inspect(DataDirectory(nodeRoot), fileSystem: fileSystem).cleanShutdown)
    }

    @Test func fullDiskFailsCommitsClearlyAndKeepsEverythingAcknowledged() async throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem)
        for index in 0..<5 { _ = try await repository.commit(put("key-\(index)", "v")) }
        fileSystem.limitFreeSpace(to: 10)
        let error = await expectRepositoryError { _ = try await repository.commit(put("key-5", "v")) }
        #expect(error?.description.contains("No space left on device") == true)
        #expect(repository.get(bytes("key-4"))?.value == bytes("v"), "reads keep working")
        _ = try? repository.close()
        let survivor = fileSystem.crashed(seed: 3)
        let reopened = try openRepository(survivor)
        #expect(reopened.status.objectCount == 5)
        try reopened.close()
    }
}
