import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting
@testable import Repository

/// Retention on a real repository (simulated disk): partial logging keeps a known standby's files
/// up to the limit, and purge checks the same needs on a running and on a stopped node.
@Suite struct RepositoryRetentionTests {
    static func fillTranlogs(_ repository: Repository, records: Range<Int>) async throws {
        for index in records { _ = try await repository.commit(put("key-\(index)", String(repeating: "v", count: 200))) }
    }

    static func tranlogIDs(_ fileSystem: SimulatedFileSystem) throws -> [UInt64] {
        try TranlogDirectory.scan(DataDirectory(nodeRoot).tranlogs, fileSystem: fileSystem).files.map(\.fileID.rawValue)
    }

    static func east(needs fileID: FileID) -> KnownStandby {
        KnownStandby(
            nodeID: "east", address: "127.0.0.1:9", flushedSeqno: Seqno(1), appliedSeqno: Seqno(1), neededFileID: fileID,
            lastSeen: Timestamp.now())
    }

    @Test func partialLoggingKeepsAStandbysFiles() async throws {
        let fileSystem = try initializedFileSystem(logging: .partial)
        let repository = try openRepository(fileSystem, testConfiguration(rotationBytes: 4096))
        try repository.knownStandbys.record(Self.east(needs: .first))
        try await Self.fillTranlogs(repository, records: 0..<100)
        try repository.checkpoint()
        let ids = try Self.tranlogIDs(fileSystem)
        #expect(ids.first == 1)
        #expect(ids.count > 3)
        _ = try repository.knownStandbys.forget("east")
        try await Self.fillTranlogs(repository, records: 100..<101)
        try repository.checkpoint()
        #expect(try Self.tranlogIDs(fileSystem).first == repository.status.checkpoint.oldestFileIDNeeded.rawValue)
        try repository.close()
    }

    /// A throw-away standby must not hold the primary's disk for ever: past `standbySlotExpiry`
    /// without a word, its files are no longer a reason to keep tranlogs; heard from again, they are.
    @Test func aStandbyNotHeardFromPastTheExpiryNoLongerHoldsTranlogs() async throws {
        let fileSystem = try initializedFileSystem(logging: .partial)
        var configuration = testConfiguration(rotationBytes: 4096)
        configuration.standbySlotExpiry = .seconds(3600)
        let repository = try openRepository(fileSystem, configuration)
        var stale = Self.east(needs: .first)
        stale.lastSeen = Timestamp(microsecondsSinceEpoch: Timestamp.now().rawValue - 2 * 3_600_000_000)
        try repository.knownStandbys.record(stale)
        #expect(repository.expiredStandbys().map(\.nodeID) == ["east"])
        #expect(try repository.retention().standbys.isEmpty, "an expired slot is no reason to keep a file")
        try await Self.fillTranlogs(repository, records: 0..<100)
        try repository.checkpoint()
        #expect(try Self.tranlogIDs(fileSystem).first == repository.status.checkpoint.oldestFileIDNeeded.rawValue, "its files were removed")

        try repository.knownStandbys.record(Self.east(needs: repository.status.checkpoint.oldestFileIDNeeded))
        #expect(repository.expiredStandbys().isEmpty, "heard from again, it holds its files again")
        #expect(try repository.retention().standbys.map(\.nodeID) == ["east"])
        try repository.close()
    }

    @Test func partialLoggingGivesUpAStandbysFilesPastTheLimit() async throws {
        let fileSystem = try initializedFileSystem(logging: .partial)
        var configuration = testConfiguration(rotationBytes: 4096)
        configuration.maxRetainedBytes = 3 * 4096
        let repository = try openRepository(fileSystem, configuration)
        try repository.knownStandbys.record(Self.east(needs: .first))
        try await Self.fillTranlogs(repository, records: 0..<100)
        try repository.checkpoint()
        let retention = try repository.retention()
        #expect(retention.bytesHeldForStandbys == retention.bytes(from: .first))
        #expect(retention.bytes(from: .first) <= 3 * 4096 || retention.files.first?.fileID == retention.recoveryNeeds)
        #expect(try Self.tranlogIDs(fileSystem).first! > 1)
        #expect(retention.hasLost(Self.east(needs: .first)))
        try repository.close()
    }

    @Test func fullLoggingRemovesNothingByItself() async throws {
        let fileSystem = try initializedFileSystem(logging: .full)
        var configuration = testConfiguration(rotationBytes: 4096)
        configuration.maxRetainedBytes = 4096
        let repository = try openRepository(fileSystem, configuration)
        try await Self.fillTranlogs(repository, records: 0..<100)
        try repository.checkpoint()
        #expect(try Self.tranlogIDs(fileSystem).first == 1)
        try repository.close()
    }

    @Test func purgeOnARunningNodeRefusesAStandbysFilesThenRemovesThemOnceForgotten() async throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem, testConfiguration(rotationBytes: 4096))
        try await Self.fillTranlogs(repository, records: 0..<100)
        try repository.checkpoint()
        try repository.knownStandbys.record(Self.east(needs: FileID(2)))
        let needed = repository.status.checkpoint.oldestFileIDNeeded
        let through = FileID(needed.rawValue - 1)
        let refusal = await expectRepositoryError { _ = try repository.purgeTranlogs(through: through, force: false, dryRun: false) }
        #expect(refusal?.description.contains("standby east needs tranlog2.dbf") == true)
        #expect(try Self.tranlogIDs(fileSystem).first == 1)
        let dryRun = try repository.purgeTranlogs(through: nil, force: false, dryRun: true)
        #expect(dryRun.removed.map(\.fileID) == [FileID(1)])
        _ = try repository.knownStandbys.forget("east")
        let report = try repository.purgeTranlogs(through: through, force: false, dryRun: false)
        #expect(report.removed.count == Int(through.rawValue))
        #expect(try Self.tranlogIDs(fileSystem).first == needed.rawValue)
        let recovery = await expectRepositoryError { _ = try repository.purgeTranlogs(through: needed, force: true, dryRun: false) }
        #expect(recovery?.description.contains("crash recovery needs \(needed.fileName)") == true)
        try repository.close()
    }

    @Test func purgeOnAStoppedNodeHoldsTheLockAndIsDurable() async throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem, testConfiguration(rotationBytes: 4096))
        try await Self.fillTranlogs(repository, records: 0..<100)
        try repository.knownStandbys.record(Self.east(needs: FileID(3)))
        try repository.close()
        let logs = try StoppedRepositoryLogs(DataDirectory(nodeRoot), fileSystem: fileSystem, logger: .init(label: "test"))
        #expect(throws: RepositoryError.self) { try openRepository(fileSystem) }
        let forced = try logs.purge(through: FileID(4), force: true, dryRun: false)
        #expect(forced.removed.map(\.fileID.rawValue) == [1, 2, 3, 4])
        #expect(forced.overridden.first?.contains("standby east") == true)
        logs.close()
        #expect(try Self.tranlogIDs(fileSystem.crashed(seed: testSeed())).first == 5)
        let reopened = try openRepository(fileSystem)
        #expect(reopened.status.objectCount == 100)
        try reopened.close()
    }

    /// A purge cut short before its directory sync: whichever removals a power loss keeps, the files
    /// left are one run of fileIds (an older file never outlives a newer one's removal) and the node
    /// opens with every object.
    @Test(arguments: testSeeds(ci: 6, soak: 100))
    func aPurgeCrashedBeforeItsSyncLeavesNoGap(seed: UInt64) async throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem, testConfiguration(rotationBytes: 4096))
        try await Self.fillTranlogs(repository, records: 0..<100)
        try repository.checkpoint()
        let needed = repository.status.checkpoint.oldestFileIDNeeded
        #expect(needed.rawValue > 3, "several files to purge")
        fileSystem.failSyncs(afterSuccessful: 0)
        #expect(throws: RepositoryError.self) { try repository.purgeTranlogs(through: FileID(needed.rawValue - 1), force: false, dryRun: false) }
        let survivor = fileSystem.crashed(seed: seed)
        _ = try? repository.close()
        let ids = try Self.tranlogIDs(survivor)
        #expect(ids == Array(ids.first!...ids.last!), "a gap in \(ids) (seed \(seed))")
        let reopened = try openRepository(survivor)
        #expect(reopened.status.objectCount == 100)
        try reopened.close()
    }
}

