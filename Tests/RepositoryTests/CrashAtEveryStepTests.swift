import Logging
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

@testable import Repository

/// Power lost right after each durable step of a checkpoint (with a run merge, and in partial
/// logging with the tranlog removal) and of a series of commits that rotates the tranlog: the
/// repository reopens, holds every acknowledged commit and nothing never attempted, and its
/// tranlog chain verifies as `understudy tranlog verify` checks it.
// The limit catches a hang, not slowness: alone the suite takes well under a minute, but on two cores
// shared with the whole suite (the failover drill's processes among it) it once took over 5.
@Suite(.timeLimit(.minutes(15))) struct CrashAtEveryStepTests {
    static let seeds = testSeeds(ci: 2, soak: 30)

    /// A repository open on the harness's disk and the acknowledged commits (the model).
    final class Fixture {
        let repository: Repository
        var acknowledged: [[UInt8]: [UInt8]]

        init(repository: Repository, acknowledged: [[UInt8]: [UInt8]]) {
            self.repository = repository
            self.acknowledged = acknowledged
        }

        func commit(_ transaction: Transaction) async throws {
            _ = try await repository.commit(transaction)
            for operation in transaction.operations {
                switch operation {
                case .put(let key, let value): acknowledged[key] = value
                case .delete(let key): acknowledged[key] = nil
                }
            }
        }
    }

    /// A repository with `commits` random commits and a checkpoint every `checkpointEvery`, the same
    /// on every call with the same seed (the harness replays it before each crash).
    static func populated(
        _ fileSystem: SimulatedFileSystem, logging: LoggingMode, configuration: RepositoryConfiguration, seed: UInt64, commits: Int,
        checkpointEvery: Int
    ) async throws -> Fixture {
        try DataDirectory.initialize(nodeRoot, sourceID: nodeSource, loggingMode: logging, fileSystem: fileSystem)
        // Quiet: once the disk stops, the repository rightly reports every failure as critical.
        let repository = try Repository(
            directory: DataDirectory(nodeRoot), configuration: configuration, fileSystem: fileSystem,
            logger: Logger(label: "crash-test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let fixture = Fixture(repository: repository, acknowledged: [:])
        var random = SeededRandom(seed: seed)
        for index in 1...commits {
            try await fixture.commit(RecoveryTests.randomTransaction(&random))
            if index % checkpointEvery == 0 { try fixture.repository.checkpoint() }
        }
        return fixture
    }

    /// The process that crashed is gone: its repository is closed only to stop its flush thread,
    /// which fails on the stopped disk and tells nothing.
    static func abandon(_ fixture: Fixture) {
        _ = try? fixture.repository.close()
    }

    /// Reopens the power-lost disk and checks the content against `expected` and the tranlog chain.
    static func reopen(
        _ disk: SimulatedFileSystem, _ configuration: RepositoryConfiguration, _ crash: CrashPoint,
        expected: (ObjectTable) -> Void
    ) throws -> [TranlogRecord] {
        let reopened = try openRepository(disk, configuration)
        let (table, applied) = reopened.snapshot()
        expected(table)
        try reopened.close()
        // The writer repaired any torn tail when it opened: the whole chain now verifies, through
        // what recovery replayed (and the clean shutdown's markers after it).
        let records = try verifyTranlogChain(DataDirectory(nodeRoot).tranlogs, fileSystem: disk)
        #expect(records.last?.body.kind == .shutdown && records.last!.seqno > applied.seqno, "\(crash)")
        return records
    }

    static func expectEqual(_ table: ObjectTable, _ model: [[UInt8]: [UInt8]], _ crash: CrashPoint) {
        #expect(table.count == model.count, "object count, \(crash)")
        let wrong = model.keys.filter { table[$0]?.value != model[$0] }.map(KeyText.display)
        #expect(wrong.isEmpty, "keys lost or wrong: \(wrong.sorted()), \(crash)")
    }

    @Test(arguments: seeds, [LoggingMode.full, .partial])
    func aCheckpointCrashedAtEveryStepLosesNothing(seed: UInt64, logging: LoggingMode) async throws {
        // Two runs already (and 10 commits since): the checkpoint's run makes three, over maxRuns, so it merges them too.
        let configuration = testConfiguration(maxRuns: 2, rotationBytes: 4096)
        let steps = try await CrashStepHarness(
            name: "checkpoint (\(logging) logging)", seed: seed,
            setUp: { fileSystem in
                try await Self.populated(fileSystem, logging: logging, configuration: configuration, seed: seed, commits: 50, checkpointEvery: 20)
            },
            operation: { _, fixture in
                let switched = try fixture.repository.checkpoint()
                #expect(switched != nil, "there were changes to checkpoint")
            },
            check: { disk, fixture, crash in
                Self.abandon(fixture)
                _ = try Self.reopen(disk, configuration, crash) { Self.expectEqual($0, fixture.acknowledged, crash) }
                if crash.operationCompleted {
                    let manifest = try ManifestStore.read(directory: DataDirectory(nodeRoot).extents, fileSystem: disk)
                    #expect(manifest?.runs.count == 1, "the merge is durable once the checkpoint returned, \(crash)")
                }
            }
        ).run()
        // At least: the run (file sync, rename, directory sync), the merged run (the same), MANIFEST
        // (the same), the checkpoint record's sync.
        print("checkpoint (\(logging) logging): crashed after each of its \(steps) durable steps")
        #expect(steps >= 10, "\(steps) durable steps")
    }

    @Test(arguments: seeds)
    func commitsThatRotateTheTranlogCrashedAtEveryStepLoseNothingAcknowledged(seed: UInt64) async throws {
        let configuration = testConfiguration(rotationBytes: 4096)
        let keys = (0..<20).map { Array("rotating-\($0)".utf8) }
        let value = { (index: Int) in [UInt8](repeating: UInt8(index), count: 700) }
        let steps = try await CrashStepHarness(
            name: "commits across rotations", seed: seed,
            setUp: { fileSystem in
                try await Self.populated(fileSystem, logging: .full, configuration: configuration, seed: seed, commits: 3, checkpointEvery: 1000)
            },
            operation: { _, fixture in
                for (index, key) in keys.enumerated() {
                    try await fixture.commit(Transaction(operations: [.put(key: key, value: value(index))]))
                }
            },
            check: { disk, fixture, crash in
                Self.abandon(fixture)
                let records = try Self.reopen(disk, configuration, crash) { table in
                    // Commits are sequential: what survived is every acknowledged one and perhaps the next.
                    let survived = keys.prefix { table[$0] != nil }.count
                    let acknowledged = keys.filter { fixture.acknowledged[$0] != nil }.count
                    #expect(survived == acknowledged || survived == acknowledged + 1, "survived \(survived), acknowledged \(acknowledged), \(crash)")
                    #expect(keys.dropFirst(survived).allSatisfy { table[$0] == nil }, "no gap in the commits, \(crash)")
                    #expect(keys.prefix(survived).enumerated().allSatisfy { table[$1]?.value == value($0) }, "\(crash)")
                    let earlier = fixture.acknowledged.filter { !keys.contains($0.key) }
                    #expect(earlier.allSatisfy { table[$0.key]?.value == $0.value }, "the commits before, \(crash)")
                }
                let files = Set(records.map(\.eventID.fileID))
                if crash.operationCompleted { #expect(files.count >= 4, "the commits rotated the tranlog: files \(files.sorted()), \(crash)") }
            }
        ).run()
        // A sync per commit, and per rotation the old file's, the new header's and the directory's.
        print("\(keys.count) commits across rotations: crashed after each of their \(steps) durable steps")
        #expect(steps >= keys.count + 3 * 3, "\(steps) durable steps")
    }

    @Test(arguments: seeds)
    func anInitCrashedAtEveryStepLeavesNoRepositoryOrAWholeOne(seed: UInt64) async throws {
        // Deep enough that the data directory's creation is durable only once its parent is synced.
        let directory = DataDirectory(FilePath("/disk/nodes/data"))
        let steps = try await CrashStepHarness(
            name: "init", seed: seed,
            setUp: { fileSystem in try fileSystem.createDirectory(directory.root.removingLastComponent()) },
            operation: { fileSystem, _ in
                try DataDirectory.initialize(directory.root, sourceID: nodeSource, loggingMode: .full, fileSystem: fileSystem)
            },
            check: { disk, _, crash in
                // understudy.json goes last: without it the directory is an interrupted init, never a repository.
                if crash.operationCompleted { #expect(disk.fileExists(directory.configFile), "init returned, \(crash)") }
                guard disk.fileExists(directory.configFile) else { return }
                let repository = try Repository(directory: directory, configuration: testConfiguration(), fileSystem: disk)
                #expect(repository.config.sourceID == nodeSource && repository.status.objectCount == 0, "\(crash)")
                try repository.close()
                _ = try verifyTranlogChain(directory.tranlogs, fileSystem: disk)
            }
        ).run()
        print("init: crashed after each of its \(steps) durable steps")
    }

    /// A checkpoint that fails with an I/O error at one of its syncs, the process going on: more
    /// commits, then another checkpoint, power lost after each of its steps. The failed checkpoint's
    /// MANIFEST may have landed (a failed directory sync does not undo a rename), so the next one
    /// must not write a run under a number that MANIFEST names. Failures that stop the tranlog writer
    /// (the checkpoint record's own sync) end the process's commits and are left to a restart.
    @Test func aCheckpointAfterOneThatFailedAtEachSyncCrashedAtEveryStepLosesNothing() async throws {
        let configuration = testConfiguration(maxRuns: 2, rotationBytes: 4096)
        let seed = testSeed()
        let setUp = { (fileSystem: SimulatedFileSystem, failing: Int?) async throws -> Fixture? in
            let fixture = try await Self.populated(fileSystem, logging: .full, configuration: configuration, seed: seed, commits: 50, checkpointEvery: 20)
            guard let failing else { return fixture }
            fileSystem.failSyncs(afterSuccessful: failing)
            #expect(throws: RepositoryError.self, "sync \(failing)") { try fixture.repository.checkpoint() }
            fileSystem.stopFailingSyncs()
            var random = SeededRandom(seed: seed &+ 1)
            do {
                for _ in 0..<10 { try await fixture.commit(RecoveryTests.randomTransaction(&random)) }
            } catch RepositoryError.stopped {
                return nil
            }
            return fixture
        }
        let scratch = SimulatedFileSystem()
        let counted = try #require(try await setUp(scratch, nil))
        let before = scratch.syncsAttemptedCount
        try counted.repository.checkpoint()
        let syncs = scratch.syncsAttemptedCount - before
        var continued = 0
        for failing in 0..<syncs {
            guard try await setUp(SimulatedFileSystem(), failing) != nil else { continue }
            continued += 1
            try await CrashStepHarness(
                name: "checkpoint after one that failed at sync \(failing)", seed: seed,
                setUp: { fileSystem in try #require(try await setUp(fileSystem, failing)) },
                operation: { _, fixture in try fixture.repository.checkpoint() },
                check: { disk, fixture, crash in
                    Self.abandon(fixture)
                    _ = try Self.reopen(disk, configuration, crash) { Self.expectEqual($0, fixture.acknowledged, crash) }
                }
            ).run()
        }
        print("checkpoint after a failed one: \(continued) of \(syncs) failing syncs left the writer running")
        #expect(continued >= 4, "the run's, the merge's and MANIFEST's syncs fail without stopping the writer")
    }
}

