import Foundation
import Logging
import Replication
import Repository
import SystemPackage
import Testing
import Tranlog
import Transport
import UnderstudyTesting

@testable import Node

/// A standby's promote and a manual restore's commit through the node layer, power lost right after
/// each of their durable steps
/// (docs/ROLES.md): the directory comes back either as the standby it was — in restore mode at the
/// very position it had applied, and promotable — or as the primary of epoch 2; never a new epoch
/// without its record, or a record without its epoch. No applied write is lost and the chain verifies.
// The limit catches a hang, not slowness: alone the suite takes well under a minute, but on two cores
// shared with the whole suite (the failover drill's processes among it) it once took over 5.
@Suite(.timeLimit(.minutes(15))) struct PromoteCrashTests {
    static let seeds = testSeeds(ci: 1, soak: 10)
    static let cluster = FilePath("/cluster")
    static let standby = DataDirectory(cluster.appending("standby"))
    /// Nothing listens there: the standby applies what its mirror holds and keeps reconnecting.
    static let absentPrimary = SocketAddress(host: "127.0.0.1", port: 1)

    /// The node about to change role (`running`), and what it holds.
    struct Fixture {
        let running: CrashAtEveryStepTests.RunningNode
        let objects: [[UInt8]: [UInt8]]
        let applied: Seqno

        init(node: UnderstudyNode, client: NodeClient, token: String, objects: [[UInt8]: [UInt8]], applied: Seqno) {
            running = CrashAtEveryStepTests.RunningNode(node: node, client: client, token: token)
            self.objects = objects
            self.applied = applied
        }
    }

    /// A key file on the real disk (the node reads it before it opens anything).
    static let keyFile: FilePath = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("understudy-promote-crash-key").path
        // Owner-only, as a node requires of a key file.
        let created = FileManager.default.createFile(
            atPath: path, contents: Data("promote-crash-test-replication-key\n".utf8), attributes: [.posixPermissions: 0o600])
        precondition(created, "cannot write the test key file \(path)")
        // An existing file keeps its mode through createFile.
        do { try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path) } catch {
            preconditionFailure("cannot make \(path) owner-only: \(error)")
        }
        return FilePath(path)
    }()

    static func configuration(on fileSystem: SimulatedFileSystem, following primary: SocketAddress?) -> NodeConfiguration {
        var configuration = NodeConfiguration(dataDirectory: standby)
        configuration.httpAddress = SocketAddress(host: "127.0.0.1", port: 0)
        configuration.fileSystem = fileSystem
        configuration.standbyOf = primary
        configuration.replicationKeyFile = keyFile
        configuration.replicationAddress = SocketAddress(host: "127.0.0.1", port: 0)
        configuration.repository.rotationBytes = 4096
        configuration.repository.checkpointInterval = .seconds(3600)
        configuration.repository.checkpointLogBytes = 1 << 40
        // The new epoch's writer would prepare its next file on a thread of its own once the first
        // is half full (4 KiB files fill fast), racing the harness's step count. The writer's own
        // tests cover preallocation.
        configuration.repository.preallocatesSegments = false
        return configuration
    }

    static func start(_ configuration: NodeConfiguration) throws -> (UnderstudyNode, NodeClient, String) {
        let node = try UnderstudyNode(configuration: configuration, logger: CrashAtEveryStepTests.silent)
        do {
            let client = try NodeClient(address: node.httpAddress, timeout: .seconds(10), logger: quietLogger)
            return (node, client, try AdminToken.read(standby, fileSystem: configuration.fileSystem))
        } catch {
            _ = try? node.stop()
            throw error
        }
    }

    /// Waits (with a deadline) until the node has applied `seqno`.
    static func awaitApplied(_ node: UnderstudyNode, _ seqno: Seqno) throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while node.status.repository.applied.seqno < seqno {
            try #require(ContinuousClock.now < deadline, "applied \(node.status.repository.applied.seqno), waiting for \(seqno)")
            usleep(2_000)
        }
    }

    /// A primary's directory copied mid-life (its checkpoint well behind its tranlogs, which span
    /// several files) to `standby`'s place; the objects and seqnos it wrote.
    static func copiedPrimary(on fileSystem: SimulatedFileSystem, seed: UInt64) async throws -> (objects: [[UInt8]: [UInt8]], seqnos: [Seqno]) {
        let primaryDirectory = DataDirectory(cluster.appending("primary"))
        try DataDirectory.initialize(primaryDirectory.root, sourceID: SourceID("crash-primary")!, loggingMode: .full, fileSystem: fileSystem)
        var repositoryConfiguration = RepositoryConfiguration()
        repositoryConfiguration.rotationBytes = 4096
        // The copy is taken while the primary runs: a preallocating thread could have a next file
        // half made at that moment or not, and the runs of the harness would then start from
        // different directories (one CI run counted two durable steps more than it later took).
        repositoryConfiguration.preallocatesSegments = false
        let primary = try Repository(directory: primaryDirectory, configuration: repositoryConfiguration, fileSystem: fileSystem, logger: CrashAtEveryStepTests.silent)
        var objects: [[UInt8]: [UInt8]] = [:]
        var seqnos: [Seqno] = []
        var random = SeededRandom(seed: seed)
        for index in 0..<60 {
            let key = Array("key-\(index)".utf8)
            let value = [UInt8](repeating: UInt8(truncatingIfNeeded: random.next()), count: 20 + Int(random.next() % 200))
            seqnos.append(try await primary.commit(Transaction(operations: [.put(key: key, value: value)])).seqno)
            objects[key] = value
            if index == 19 { try primary.checkpoint() }
        }
        fileSystem.copyTree(from: primaryDirectory.root, to: standby.root)
        for name in ["LOCK", "LOCK.pid"] where fileSystem.fileExists(standby.root.appending(name)) {
            try fileSystem.removeFile(standby.root.appending(name))
        }
        try primary.close()
        return (objects, seqnos)
    }

    /// A standby on the copy that has applied its whole mirror, then paused there (so it has a
    /// `standby.json`, which the promote removes after its commit point).
    static func standbyReadyToPromote(on fileSystem: SimulatedFileSystem, seed: UInt64) async throws -> Fixture {
        let (objects, seqnos) = try await copiedPrimary(on: fileSystem, seed: seed)
        let (node, client, token) = try start(configuration(on: fileSystem, following: absentPrimary))
        try awaitApplied(node, seqnos.last!)
        _ = try client.standbyPause(StandbyPauseRequest(untilSeqno: node.status.repository.applied.seqno), token: token)
        #expect(fileSystem.fileExists(standby.standbyControlFile))
        return Fixture(node: node, client: client, token: token, objects: objects, applied: node.status.repository.applied.seqno)
    }

    /// A manual restore on the copy (`start --restore-mode`), rolled forward to the 40th commit:
    /// the files after it are set aside by the commit.
    static func restoreReadyToCommit(on fileSystem: SimulatedFileSystem, seed: UInt64) async throws -> Fixture {
        let (objects, seqnos) = try await copiedPrimary(on: fileSystem, seed: seed)
        try Repository.enterRestoreMode(standby, fileSystem: fileSystem)
        let (node, client, token) = try start(configuration(on: fileSystem, following: nil))
        _ = try client.restoreLogs(LogRestoreRequest(target: .seqno(seqnos[39])), token: token)
        let restored = objects.filter { key, _ in Int(String(decoding: key.dropFirst(4), as: UTF8.self))! < 40 }
        return Fixture(node: node, client: client, token: token, objects: restored, applied: node.status.repository.applied.seqno)
    }

    @Test(arguments: seeds)
    func promoteCrashedAtEveryStepRestartsAsTheStandbyOrThePromotedPrimary(seed: UInt64) async throws {
        let outcomes = CrashAtEveryStepTests.Outcomes()
        let steps = try await CrashStepHarness(
            name: "promote", seed: seed,
            setUp: { fileSystem in try await Self.standbyReadyToPromote(on: fileSystem, seed: seed) },
            operation: { _, fixture in
                defer { fixture.running.abandon() }
                _ = try fixture.running.client.promote(token: fixture.running.token)
            },
            check: { disk, fixture, crash in
                if try Repository.promotion(of: Self.standby, fileSystem: disk) == nil {
                    outcomes.none += 1
                    try Self.checkStillTheStandby(disk, fixture, crash)
                } else {
                    outcomes.whole += 1
                    try Self.checkPromoted(disk, fixture, crash)
                }
                _ = try verifyTranlogChain(Self.standby.tranlogs, fileSystem: disk)
            }
        ).run()
        print("promote: crashed after each of its \(steps) durable steps; \(outcomes.none) came back as the standby, \(outcomes.whole) as the primary")
        #expect(outcomes.none > 0 && outcomes.whole > 0, "early crashes keep the standby, late ones the primary")
        #expect(steps >= 3, "\(steps) durable steps")
    }

    /// The promote failing with an I/O error at each of its syncs, the node going on: promote again
    /// completes it, writes are then accepted, and a restart as a primary finds everything.
    @Test func promoteFailingAtEachSyncCompletesWhenRunAgain() async throws {
        let seed = testSeed()
        var failures = 0
        for failing in 0... {
            let disk = SimulatedFileSystem()
            let fixture = try await Self.standbyReadyToPromote(on: disk, seed: seed)
            disk.failSyncs(afterSuccessful: failing)
            let running = fixture.running
            let first = Result { () throws(NodeClientError) in try running.client.promote(token: running.token) }
            disk.stopFailingSyncs()
            if case .failure = first {
                failures += 1
                let again = try running.client.promote(token: running.token)
                #expect(again.epoch == Epoch(2), "sync \(failing): \(again.message)")
            }
            _ = try running.client.put(key: Array("after-promote".utf8), value: Array("written".utf8))
            for (key, value) in fixture.objects {
                #expect(try running.client.get(key: key)?.value == value, "\(String(decoding: key, as: UTF8.self)), sync \(failing)")
            }
            running.client.close()
            _ = try running.node.stop()
            let (node, client, _) = try Self.start(Self.configuration(on: disk, following: nil))
            #expect(node.status.role == "primary" && node.status.repository.epoch == Epoch(2), "sync \(failing)")
            #expect(try client.get(key: Array("after-promote".utf8))?.value == Array("written".utf8), "sync \(failing)")
            #expect(!disk.fileExists(Self.standby.standbyControlFile), "sync \(failing)")
            client.close()
            _ = try node.stop()
            if case .success = first {
                print("promote: an I/O error at each of its \(failing) syncs")
                break
            }
        }
        #expect(failures >= 3)
    }

    @Test(arguments: seeds)
    func restoreCommitCrashedAtEveryStepRestartsRestoringOrAsThePrimary(seed: UInt64) async throws {
        let outcomes = CrashAtEveryStepTests.Outcomes()
        let steps = try await CrashStepHarness(
            name: "restore commit", seed: seed,
            setUp: { fileSystem in try await Self.restoreReadyToCommit(on: fileSystem, seed: seed) },
            operation: { _, fixture in
                defer { fixture.running.abandon() }
                _ = try fixture.running.client.commitRestore(token: fixture.running.token)
            },
            check: { disk, fixture, crash in
                let committed = try Repository.promotion(of: Self.standby, fileSystem: disk) != nil
                let (node, client, token) = try Self.start(Self.configuration(on: disk, following: nil))
                defer {
                    client.close()
                    _ = try? node.stop()
                }
                if committed {
                    outcomes.whole += 1
                    let history = try EpochHistoryStore.read(Self.standby.epochsFile, fileSystem: disk)
                    #expect(history.current.epoch == Epoch(2) && history.current.startSeqno == fixture.applied.next, "\(crash): \(history)")
                    #expect(node.status.role == "primary", "\(crash)")
                } else {
                    outcomes.none += 1
                    #expect(node.status.role == "restoring" && node.status.repository.applied.seqno == fixture.applied, "\(crash)")
                    _ = try client.commitRestore(token: token)
                }
                _ = try client.put(key: Array("after-commit".utf8), value: Array("written".utf8))
                try Self.expectEveryObject(fixture, client, crash)
                #expect(try client.get(key: Array("key-40".utf8)) == nil, "nothing after the restore point, \(crash)")
                _ = try verifyTranlogChain(Self.standby.tranlogs, fileSystem: disk)
            }
        ).run()
        print("restore commit: crashed after each of its \(steps) durable steps; \(outcomes.none) came back restoring, \(outcomes.whole) as the primary")
        #expect(outcomes.none > 0 && outcomes.whole > 0, "early crashes keep the restore, late ones the primary")
    }

    /// Before the commit point: restarted with its standby command line, it is the standby it was,
    /// at the same applied position; promoting it now works.
    static func checkStillTheStandby(_ disk: SimulatedFileSystem, _ fixture: Fixture, _ crash: CrashPoint) throws {
        let (node, client, token) = try start(configuration(on: disk, following: absentPrimary))
        defer {
            client.close()
            _ = try? node.stop()
        }
        try awaitApplied(node, fixture.applied)
        let status = node.status
        #expect(status.role == "standby" && status.repository.epoch == .first, "\(crash)")
        #expect(status.repository.applied.seqno == fixture.applied, "\(crash)")
        #expect(status.replication?.paused != nil, "still paused, \(crash)")
        let promoted = try client.promote(token: token)
        #expect(promoted.promoted && promoted.epoch == Epoch(2), "\(crash): \(promoted.message)")
        try expectEveryObject(fixture, client, crash)
    }

    /// After it: the standby command line is refused; started as a primary, the open completes the
    /// commit, it is in epoch 2 and accepts writes.
    static func checkPromoted(_ disk: SimulatedFileSystem, _ fixture: Fixture, _ crash: CrashPoint) throws {
        #expect(throws: NodeError.self, "a promoted directory is refused as a standby, \(crash)") {
            let (node, client, _) = try start(configuration(on: disk, following: absentPrimary))
            client.close()
            _ = try? node.stop()
        }
        let (node, client, token) = try start(configuration(on: disk, following: nil))
        defer {
            client.close()
            _ = try? node.stop()
        }
        let status = node.status
        #expect(status.role == "primary" && status.repository.epoch == Epoch(2), "\(crash): \(status.role) epoch \(status.repository.epoch)")
        #expect(!disk.fileExists(standby.standbyControlFile), "the standby's pause is gone, \(crash)")
        // The epoch begins right after the last applied record (a graceful stop after the promote may
        // have added its checkpoint and shutdown records since).
        let history = try EpochHistoryStore.read(standby.epochsFile, fileSystem: disk)
        #expect(history.current.epoch == Epoch(2) && history.current.startSeqno == fixture.applied.next, "\(crash): \(history)")
        let again = try client.promote(token: token)
        #expect(!again.promoted && again.message.hasPrefix("already promoted at epoch 2"), "\(crash): \(again.message)")
        _ = try client.put(key: Array("after-promote".utf8), value: Array("written".utf8))
        try expectEveryObject(fixture, client, crash)
    }

    static func expectEveryObject(_ fixture: Fixture, _ client: NodeClient, _ crash: CrashPoint) throws {
        for (key, value) in fixture.objects {
            #expect(try client.get(key: key)?.value == value, "\(String(decoding: key, as: UTF8.self)) after \(crash)")
        }
    }
}
