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

/// Power lost right after each durable step, through the node layer (`NodeConfiguration.fileSystem`):
/// a checkpoint asked over the admin API of a running node, writes that rotate its tranlog, and a
/// standby's base-copy install.
/// After each crash the node (or the standby's directory) comes back with every acknowledged write,
/// and its tranlog chain verifies.
// The limit catches a hang, not slowness: alone the suite takes well under a minute, but on two cores
// shared with the whole suite (the failover drill's processes among it) it once took over 5.
@Suite(.timeLimit(.minutes(15))) struct CrashAtEveryStepTests {
    static let seeds = testSeeds(ci: 1, soak: 20)
    /// Deep enough that the data directory's own entries are not fixtures (see `SimulatedFileSystem`).
    static let cluster = FilePath("/cluster")

    /// Once the disk stops, the old process rightly reports every failure; nothing of it matters.
    static let silent = Logger(label: "crash-test", factory: { _ in SwiftLogNoOpLogHandler() })

    // MARK: - A node on a simulated disk

    /// A primary serving HTTP on 127.0.0.1 (any port) from `directory` on `fileSystem`, with no
    /// background checkpoint to race the harness's step count.
    static func startNode(
        _ directory: DataDirectory, on fileSystem: SimulatedFileSystem, rotationBytes: Int = 64 * 1024, logger: Logger
    ) throws -> (UnderstudyNode, NodeClient) {
        try NodeFixture.start(directory, logger: logger) { configuration in
            configuration.fileSystem = fileSystem
            configuration.repository.rotationBytes = rotationBytes
            configuration.repository.checkpointInterval = .seconds(3600)
            configuration.repository.checkpointLogBytes = 1 << 40
            configuration.repository.maxRuns = 2
            // A preallocating thread would race the harness's step count (the writer's tests cover it).
            configuration.repository.preallocatesSegments = false
        }
    }

    /// A running node and the writes it acknowledged.
    final class RunningNode {
        let node: UnderstudyNode
        let client: NodeClient
        let token: String
        var acknowledged: [[UInt8]: [UInt8]] = [:]

        init(node: UnderstudyNode, client: NodeClient, token: String) {
            self.node = node
            self.client = client
            self.token = token
        }

        /// The crashed process is gone: its client disconnects and its node stops serving (the
        /// stop's final checkpoint fails on the stopped disk, which is the point).
        func abandon() {
            client.close()
            _ = try? node.stop()
        }
    }

    @Test(arguments: seeds)
    func aCheckpointAskedOfANodeCrashedAtEveryStepLosesNoAcknowledgedWrite(seed: UInt64) async throws {
        let directory = DataDirectory(Self.cluster.appending("node").appending("data"))
        let steps = try await CrashStepHarness(
            name: "node checkpoint", seed: seed,
            setUp: { fileSystem in
                try fileSystem.createDirectory(directory.root.removingLastComponent())
                try DataDirectory.initialize(directory.root, sourceID: SourceID("crash-node")!, loggingMode: .full, fileSystem: fileSystem)
                let (node, client) = try Self.startNode(directory, on: fileSystem, logger: Self.silent)
                let running = RunningNode(node: node, client: client, token: try AdminToken.read(directory, fileSystem: fileSystem))
                var random = SeededRandom(seed: seed)
                for index in 0..<40 {
                    let key = Array("key-\(random.next() % 25)".utf8), value = Array("value \(index) ".utf8)
                    _ = try client.put(key: key, value: value)
                    running.acknowledged[key] = value
                    if index == 14 || index == 29 { _ = try client.checkpoint(token: running.token) }
                }
                return running
            },
            operation: { _, running in _ = try running.client.checkpoint(token: running.token) },
            check: { disk, running, crash in
                running.abandon()
                let (node, client) = try Self.startNode(directory, on: disk, logger: quietLogger)
                let wrong = try running.acknowledged.filter { key, value throws in try client.get(key: key)?.value != value }.keys
                #expect(wrong.isEmpty, "lost or wrong: \(wrong.map { String(decoding: $0, as: UTF8.self) }.sorted()), \(crash)")
                #expect(node.status.role == "primary", "\(crash)")
                client.close()
                try node.stop()
                _ = try verifyTranlogChain(directory.tranlogs, fileSystem: disk)
            }
        ).run()
        print("node checkpoint: crashed after each of its \(steps) durable steps")
        #expect(steps >= 10, "a new run and a merged one, MANIFEST, the checkpoint record: \(steps) durable steps")
    }

    @Test(arguments: seeds)
    func writesThatRotateANodesTranlogCrashedAtEveryStepLoseNothingAcknowledged(seed: UInt64) async throws {
        let directory = DataDirectory(Self.cluster.appending("node").appending("data"))
        let keys = (0..<16).map { Array("rotating-\($0)".utf8) }
        let value = { (index: Int) in [UInt8](repeating: UInt8(index), count: 900) }
        let steps = try await CrashStepHarness(
            name: "node writes across rotations", seed: seed,
            setUp: { fileSystem in
                try fileSystem.createDirectory(directory.root.removingLastComponent())
                try DataDirectory.initialize(directory.root, sourceID: SourceID("crash-node")!, loggingMode: .full, fileSystem: fileSystem)
                let (node, client) = try Self.startNode(directory, on: fileSystem, rotationBytes: 4096, logger: Self.silent)
                return RunningNode(node: node, client: client, token: try AdminToken.read(directory, fileSystem: fileSystem))
            },
            operation: { _, running in
                for (index, key) in keys.enumerated() {
                    _ = try running.client.put(key: key, value: value(index))
                    running.acknowledged[key] = value(index)
                }
            },
            check: { disk, running, crash in
                running.abandon()
                let (node, client) = try Self.startNode(directory, on: disk, rotationBytes: 4096, logger: quietLogger)
                // Writes are sequential: what survived is every acknowledged one and perhaps the next.
                let found = try keys.map { key throws in try client.get(key: key)?.value }
                let survived = found.prefix { $0 != nil }.count
                #expect(survived == running.acknowledged.count || survived == running.acknowledged.count + 1,
                    "survived \(survived), acknowledged \(running.acknowledged.count), \(crash)")
                #expect(found.dropFirst(survived).allSatisfy { $0 == nil }, "no gap in the writes, \(crash)")
                #expect(found.prefix(survived).enumerated().allSatisfy { $1 == value($0) }, "\(crash)")
                client.close()
                try node.stop()
                let files = Set(try verifyTranlogChain(directory.tranlogs, fileSystem: disk).map(\.eventID.fileID))
                if crash.operationCompleted { #expect(files.count >= 4, "the writes rotated the tranlog: files \(files.sorted()), \(crash)") }
            }
        ).run()
        print("node writes across rotations: crashed after each of their \(steps) durable steps")
        #expect(steps >= keys.count + 3 * 3, "a sync per write, three per rotation: \(steps) durable steps")
    }

    // MARK: - Base-copy install

    /// What a standby holds once its base copy is received: the primary's files in the staging
    /// directory, the primary's end message, and the objects the copy must hold.
    final class ReceivedCopy {
        let install: BaseCopyInstall
        let end: BaseCopyEnd
        let objects: [[UInt8]: [UInt8]]

        init(install: BaseCopyInstall, end: BaseCopyEnd, objects: [[UInt8]: [UInt8]]) {
            self.install = install
            self.end = end
            self.objects = objects
        }
    }

    static let standbyID = SourceID("crash-standby")!

    static func received(on fileSystem: SimulatedFileSystem, target: DataDirectory, seed: UInt64) async throws -> ReceivedCopy {
        let primaryDirectory = DataDirectory(Self.cluster.appending("primary"))
        try DataDirectory.initialize(primaryDirectory.root, sourceID: SourceID("crash-primary")!, loggingMode: .full, fileSystem: fileSystem)
        let primary = try Repository(directory: primaryDirectory, fileSystem: fileSystem, logger: Self.silent)
        var objects: [[UInt8]: [UInt8]] = [:]
        var random = SeededRandom(seed: seed)
        for index in 0..<120 {
            let key = Array("key-\(index)".utf8)
            let value = [UInt8](repeating: UInt8(truncatingIfNeeded: random.next()), count: Int(random.next() % 500))
            _ = try await primary.commit(Transaction(operations: [.put(key: key, value: value)]))
            objects[key] = value
        }
        let staging = FilePath(target.root.string + BaseCopyBootstrap.stagingSuffix)
        try fileSystem.createDirectory(staging)
        // Half checkpointed, half only in the tranlog: the copy needs both.
        try primary.checkpoint()
        for index in 120..<160 {
            let key = Array("key-\(index)".utf8)
            _ = try await primary.commit(Transaction(operations: [.put(key: key, value: [UInt8(index)])]))
            objects[key] = [UInt8(index)]
        }
        let end = try receiveBaseCopy(of: primary, into: staging, fileSystem: fileSystem)
        try primary.close()
        let install = BaseCopyInstall(staging: staging, target: target, sourceID: Self.standbyID, fileSystem: fileSystem, logger: Self.silent)
        return ReceivedCopy(install: install, end: end, objects: objects)
    }

    @Test(arguments: seeds)
    func aBaseCopyInstallCrashedAtEveryStepLeavesNoDirectoryOrAWholeOne(seed: UInt64) async throws {
        let target = DataDirectory(Self.cluster.appending("standby"))
        let outcomes = Outcomes()
        let steps = try await CrashStepHarness(
            name: "base-copy install", seed: seed,
            setUp: { fileSystem in try await Self.received(on: fileSystem, target: target, seed: seed) },
            operation: { _, copied in try copied.install.run(end: copied.end) },
            check: { disk, copied, crash in
                if crash.operationCompleted { #expect(disk.fileExists(target.root), "an installed copy stays, \(crash)") }
                // No directory: the standby's next start copies a base again (a missing DIR counts as empty).
                guard disk.fileExists(target.root) else { return outcomes.none += 1 }
                outcomes.whole += 1
                // A directory there is a whole repository: understudy.json present, everything restored.
                let config = try target.readConfig(fileSystem: disk)
                #expect(config.repositoryID == copied.end.repositoryID && config.sourceID == Self.standbyID, "\(crash)")
                let repository = try Repository(directory: target, fileSystem: disk, logger: quietLogger)
                #expect(repository.isRestoring, "\(crash)")
                #expect(try repository.applyLocalLogs(through: copied.end.position.seqno).seqno == copied.end.position.seqno, "\(crash)")
                let table = repository.snapshot().table
                #expect(table.count == copied.objects.count && copied.objects.allSatisfy { table[$0.key]?.value == $0.value }, "\(crash)")
                try repository.close()
                // The copied tranlogs are the primary's, from the checkpoint on, whole.
                _ = try verifyTranlogChain(target.tranlogs, fileSystem: disk)
            }
        ).run()
        print("base-copy install: crashed after each of its \(steps) durable steps; \(outcomes.none) left no directory, \(outcomes.whole) a whole one")
        #expect(outcomes.none > 0 && outcomes.whole > 0, "early crashes leave nothing, late ones the copy")
        #expect(steps >= 5, "\(steps) durable steps")
    }

    /// How the crash points ended (the harness runs them one after another).
    final class Outcomes {
        var none = 0
        var whole = 0
    }
}
