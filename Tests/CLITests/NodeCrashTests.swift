import Foundation
import Node
import Repository
import Testing
import Tranlog
import UnderstudyTesting

/// Real processes, real crashes: concurrent clients commit single puts and two-key transactions to
/// `understudy start`; the node is killed with SIGKILL at a seeded random moment, restarted, and
/// must hold every acknowledged write with its value and no half of any transaction. Several rounds
/// per seed, so recovery also starts from a directory that already survived a crash.
///
/// CI runs a couple of seeds; `UNDERSTUDY_SOAK=1` runs many. `UNDERSTUDY_SEED` replays one.
@Suite("kill -9 of a primary under concurrent load")
struct NodeCrashTests {
    static let seeds = testSeeds(ci: 2, soak: 20)

    @Test(arguments: seeds)
    func acknowledgedCommitsSurviveKillNine(seed: UInt64) throws {
        print("NodeCrashTests seed \(seed) (replay with UNDERSTUDY_SEED=\(seed))")
        var random = SeededRandom(seed: seed)
        try withTemporaryDirectory { directory in
            let data = directory.appendingPathComponent("data")
            let created = try CLIProcess.run(["init", "--data", data.path], in: directory)
            try #require(created.status == 0, "init: \(created.standardError)")
            let acknowledged = Acknowledged()
            for round in 0..<3 {
                let node = try ServerProcess(data: data, in: directory)
                defer { node.cleanUp() }
                try expectHolds(acknowledged, node: node.url, context: "before round \(round), seed \(seed)")
                let load = Load(node: node.url, round: round, clients: 6, acknowledged: acknowledged)
                acknowledged.waitForMore(than: acknowledged.count, by: 40 + Int(random.next() % 200))
                node.stop(with: SIGKILL)
                load.finish()
                #expect(load.unexpectedErrors.isEmpty, "clients saw errors other than the kill: \(load.unexpectedErrors.prefix(3))")
            }
            let node = try ServerProcess(data: data, in: directory)
            defer { node.cleanUp() }
            try expectHolds(acknowledged, node: node.url, context: "after the last crash, seed \(seed)")
            #expect(node.stop(with: SIGTERM) == 0)
        }
    }

    /// Every acknowledged key reads back with its value, and every pair of a two-key transaction
    /// present on the node is whole (acknowledged or not: a commit is all or nothing).
    private func expectHolds(_ acknowledged: Acknowledged, node: String, context: String) throws {
        let client = try NodeClient(url: node)
        defer { client.close() }
        for (key, value) in acknowledged.snapshot() {
            #expect(try client.get(key: Array(key.utf8))?.value == value, "acknowledged key \(key) lost or changed, \(context)")
        }
        var halves: [String: [[UInt8]]] = [:]
        var after: [UInt8]?
        repeat {
            let page = try client.list(prefix: Array("pair-".utf8), after: after, limit: 1000)
            for key in page.keys {
                let text = String(decoding: key.bytes, as: UTF8.self)
                halves[String(text.dropLast(2)), default: []].append(try #require(try client.get(key: key.bytes)).value)
            }
            after = page.next?.bytes
        } while after != nil
        for (pair, values) in halves {
            #expect(values.count == 2 && values[0] == values[1], "transaction \(pair) is half applied, \(context)")
        }
    }
}

/// What the clients were told was committed: key → value.
final class Acknowledged: @unchecked Sendable {
    private let condition = NSCondition()
    private var values: [String: [UInt8]] = [:]

    var count: Int { condition.withLock { values.count } }

    func record(_ writes: [(String, [UInt8])]) {
        condition.withLock {
            for (key, value) in writes { values[key] = value }
            condition.broadcast()
        }
    }

    func snapshot() -> [String: [UInt8]] { condition.withLock { values } }

    /// Waits until `extra` more keys than `base` were acknowledged (deadline: a test failure, not a hang).
    func waitForMore(than base: Int, by extra: Int) {
        condition.withLock {
            let deadline = Date().addingTimeInterval(120)
            while values.count < base + extra && condition.wait(until: deadline) {}
        }
    }
}

/// Client threads committing until the node goes away.
final class Load: @unchecked Sendable {
    private var threads: [Thread] = []
    private let finished = DispatchGroup()
    private let lock = NSLock()
    private var errors: [String] = []

    var unexpectedErrors: [String] { lock.withLock { errors } }

    init(node: String, round: Int, clients: Int, acknowledged: Acknowledged) {
        for clientIndex in 0..<clients {
            finished.enter()
            let thread = Thread { [self] in
                defer { finished.leave() }
                run(node: node, prefix: "r\(round)-c\(clientIndex)", acknowledged: acknowledged)
            }
            threads.append(thread)
            thread.start()
        }
    }

    private func run(node: String, prefix: String, acknowledged: Acknowledged) {
        guard let client = try? NodeClient(url: node, timeout: .seconds(20)) else { return }
        defer { client.close() }
        for index in 0... {
            let value = Array("\(prefix)-\(index)-".utf8) + [UInt8](repeating: UInt8(index % 251), count: index % 300)
            let writes: [(String, [UInt8])] =
                index % 3 == 0
                ? [("pair-\(prefix)-\(index)-a", value), ("pair-\(prefix)-\(index)-b", value)]
                : [("single-\(prefix)-\(index)", value)]
            do {
                _ = try client.commit(CommitBatch(Transaction(operations: writes.map { .put(key: Array($0.0.utf8), value: $0.1) })))
                acknowledged.record(writes)
            } catch {
                if case .refused = error { lock.withLock { errors.append("\(error)") } }
                return  // the node was killed: connection refused, reset or lost
            }
        }
    }

    func finish() { finished.wait() }
}
