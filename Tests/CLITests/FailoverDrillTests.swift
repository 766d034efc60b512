import Foundation
import Node
import Testing
import UnderstudyTesting

/// The failover drill: a synchronous primary (level flushed, no fallback) under concurrent clients is
/// killed with SIGKILL at a random moment; its standby is promoted and must hold every commit a client
/// heard acknowledged, and its promote report must say exactly that none was lost. The killed node's
/// place is taken by a new, empty standby that base-copies the new primary, and the next round
/// begins: each round is one failover, the epochs chain across all of them. Each standby follows
/// through a loopback proxy that, at random, stalls the link or cuts it in the middle of a message
/// shortly before the kill, so resends and reconnects happen under synchronous replication.
///
/// 200 rounds in CI; `UNDERSTUDY_SOAK=1` runs 1,000, `UNDERSTUDY_DRILL_ROUNDS=N` N; `UNDERSTUDY_SEED`
/// replays one drill.
/// docs/RELIABILITY.md records the figures.
@Suite("Failover drill: kill -9 of a synchronous primary, promote, compare", .serialized)
struct FailoverDrillTests {
    static let rounds = ProcessInfo.processInfo.environment["UNDERSTUDY_DRILL_ROUNDS"].flatMap(Int.init)
        ?? (ProcessInfo.processInfo.environment["UNDERSTUDY_SOAK"] == "1" ? 1000 : 200)

    @Test("rounds of kill -9 at level flushed: every acknowledged commit survives, and promote reports exactly 0 lost")
    func drill() throws {
        let seed = testSeed()
        print("failover drill: seed \(seed) (replay with UNDERSTUDY_SEED=\(seed)), \(Self.rounds) rounds")
        var random = SeededRandom(seed: seed)
        try withTemporaryDirectory { directory in
            var cluster = try DrillCluster(in: directory)
            defer { cluster.cleanUp() }
            var figures = DrillFigures()
            for round in 1...Self.rounds {
                let outcome = try cluster.failover(round: round, random: &random)
                figures.add(outcome)
                if round % 25 == 0 || round == Self.rounds { print("failover drill: \(figures.line(after: round, seed: seed))") }
            }
            // Everything acknowledged in any round is still there after all the failovers since.
            let missing = try StandbyLoadTests.missing(cluster.everAcknowledged, on: cluster.primary.url)
            #expect(missing.isEmpty, "after \(Self.rounds) failovers, \(missing.count) acknowledged commits are missing: \(missing.prefix(5))")
            #expect(figures.lost == 0)
        }
    }
}

/// What one round did.
struct DrillOutcome {
    var acknowledged: Int
    /// Acknowledged commits the promoted standby does not hold.
    var lost: Int
    var fault: DrillFault
}

enum DrillFault: CaseIterable {
    case none, stall, cut
}

/// Totals for the drill's summary lines (docs/RELIABILITY.md quotes them).
struct DrillFigures {
    var rounds = 0
    var acknowledged = 0
    var lost = 0
    var faults: [DrillFault: Int] = [:]

    mutating func add(_ outcome: DrillOutcome) {
        rounds += 1
        acknowledged += outcome.acknowledged
        lost += outcome.lost
        faults[outcome.fault, default: 0] += 1
    }

    func line(after round: Int, seed: UInt64) -> String {
        "\(round) rounds, \(acknowledged) commits acknowledged, \(lost) lost; links stalled in \(faults[.stall] ?? 0), "
            + "cut mid-message in \(faults[.cut] ?? 0) (seed \(seed))"
    }
}

/// A synchronous primary and its standby (behind a proxy), real processes, swapping roles each round.
struct DrillCluster {
    let directory: URL
    var primary: ServerProcess
    var standby: ServerProcess
    var primaryData: URL
    var standbyData: URL
    var proxy: TCPProxy
    private(set) var everAcknowledged: [String: CountedLoad.Write] = [:]
    private var nodes = 0

    /// Flags every node gets: synchronous at level flushed once it is (or becomes) a primary.
    static let synchronous = ["--synchronous-standbys", "1", "--synchronous-level", "flushed"]

    init(in directory: URL) throws {
        self.directory = directory
        try writeSecret("drill-primary-and-standbys-share-this-key\n", to: directory.appendingPathComponent("key"))
        let first = directory.appendingPathComponent("node-0")
        primaryData = first
        let initialized = try CLIProcess.run(["init", "--data", first.path, "--source-id", "drill-0"], in: directory)
        try #require(initialized.status == 0, "\(initialized.standardError)")
        primary = try ServerProcess([
            "start", "--data", first.path, "--http", "127.0.0.1:0", "--replication", "127.0.0.1:0",
            "--replication-key-file", directory.appendingPathComponent("key").path,
        ] + Self.synchronous, in: directory)
        standbyData = directory.appendingPathComponent("node-1")
        nodes = 1
        (standby, proxy) = try Self.startStandby(standbyData, following: primary, in: directory)
    }

    /// An empty standby that base-copies `primary` through a new proxy, then follows it.
    static func startStandby(_ data: URL, following primary: ServerProcess, in directory: URL) throws -> (ServerProcess, TCPProxy) {
        let replication = try #require(primary.fields["replication"]?.split(separator: ":").last.flatMap { Int($0) })
        // A records message of one small commit is over 80 bytes; a heartbeat's is under it.
        let proxy = try TCPProxy(upstreamPort: replication, minimumCutBytes: 80)
        let standby = try ServerProcess([
            "standby", "--data", data.path, "--primary", proxy.address, "--http", "127.0.0.1:0", "--replication", "127.0.0.1:0",
            "--replication-key-file", directory.appendingPathComponent("key").path,
        ] + synchronous, in: directory)
        return (standby, proxy)
    }

    /// One round: load, a fault on the link at random, kill -9 of the primary, promote, compare;
    /// then the killed node's place goes to a new standby of the promoted one.
    mutating func failover(round: Int, random: inout SeededRandom) throws -> DrillOutcome {
        // The standby counts for the primary, and knows that it does: a promotion can say the loss exactly.
        _ = try StandbyCommandTests.waitForStatus(of: primary) { $0.synchronous?.state == .synchronous }
        _ = try StandbyCommandTests.waitForStatus(of: standby) { $0.replication?.synchronous?.level == .flushed }

        let load = CountedLoad(
            url: primary.url, clients: Int.random(in: 1...6, using: &random), commitsPerClient: 100_000, keyPrefix: "r\(round)/")
        load.start()
        try load.waitForAcknowledged(Int.random(in: 5...120, using: &random))
        let fault = DrillFault.allCases.randomElement(using: &random)!
        switch fault {
        case .none: break
        case .stall: proxy.stall(seconds: Double.random(in: 0.05...0.4, using: &random))
        case .cut: try proxy.cutMidStream()
        }
        // The kill lands a random number of acknowledgements later: mid-batch, mid-resend or idle.
        try load.waitForAcknowledged(load.acknowledgedCount + Int.random(in: 0...40, using: &random))
        #expect(primary.stop(with: SIGKILL) == SIGKILL)
        let acknowledged = try load.finish(failuresExpected: true)
        proxy.close()

        let lost = try promote(expecting: acknowledged, round: round)
        everAcknowledged.merge(acknowledged) { $1 }
        try replaceKilledPrimary()
        return DrillOutcome(acknowledged: acknowledged.count, lost: lost, fault: fault)
    }

    /// Promotes the standby and returns how many acknowledged commits it lacks (expected: none).
    private func promote(expecting acknowledged: [String: CountedLoad.Write], round: Int) throws -> Int {
        let started = ContinuousClock.now
        let promoted = try CLIProcess.run(["promote", "--node", standby.url, "--data", standbyData.path, "--json"], in: directory)
        let commandMilliseconds = (ContinuousClock.now - started) / .milliseconds(1)
        try #require(promoted.status == 0, "round \(round): \(promoted.standardError)")
        let report = try JSONDecoder().decode(PromoteReport.self, from: Data(promoted.standardOutput.utf8))
        let newest = acknowledged.values.map(\.seqno).max() ?? .zero
        #expect(report.applied.seqno >= newest, "round \(round): promoted at \(report.applied.seqno), the primary acknowledged \(newest)")
        #expect(report.exactLoss?.acknowledgedCommitsLost == 0, "round \(round): \(report.message)")
        #expect(report.exactLoss?.level == .flushed)
        #expect(report.message.contains("0 acknowledged commits lost (synchronous at level flushed since "), "\(report.message)")
        // Every step inside the node is reported, the waits on either side of the commit point too.
        let phases = try #require(report.milliseconds, "round \(round)")
        let waited = try #require(phases.waitForApply, "round \(round)")
        let stopped = try #require(phases.stopStandby, "round \(round)")
        #expect([waited, phases.stopReceiver, phases.applyFlushed, phases.commitRestore, stopped].allSatisfy { $0 >= 0 }, "\(phases)")
        #expect(phases.total <= commandMilliseconds, "the node's steps fit in the command's \(commandMilliseconds) ms: \(phases)")
        let missing = try StandbyLoadTests.missing(acknowledged, on: standby.url)
        #expect(missing.isEmpty, "round \(round): \(missing.count) acknowledged commits missing: \(missing.prefix(5))")
        return missing.count
    }

    /// The promoted standby is the primary now; the killed node's directory is dropped and an empty
    /// one base-copies the new primary.
    private mutating func replaceKilledPrimary() throws {
        primary.cleanUp()
        try FileManager.default.removeItem(at: primaryData)
        nodes += 1
        let data = directory.appendingPathComponent("node-\(nodes)")
        primary = standby
        primaryData = standbyData
        (standby, proxy) = try Self.startStandby(data, following: primary, in: directory)
        standbyData = data
    }

    func cleanUp() {
        proxy.close()
        standby.cleanUp()
        primary.cleanUp()
    }
}
