import Logging
import Repository
import Testing
import Tranlog
import Transport
@testable import Node
@testable import Replication

/// The gate on a fake loop: which acks release which commits, and the state machine (synchronous,
/// waiting, fallback) with its timer, counter and log lines.
@Suite struct SynchronousGateTests {
    @Test func aCommitWaitsUntilAnAckAtTheLevelCoversIt() {
        let harness = GateHarness(standbys: 1)
        harness.ack(1, "east", flushed: 0)
        #expect(harness.gate.status?.state == .synchronous)
        harness.commit(5)
        harness.ack(1, "east", received: 5, flushed: 4)
        #expect(harness.released == [])
        harness.ack(1, "east", flushed: 5)
        #expect(harness.released == [5])
        #expect(harness.gate.status?.waitingCommits == 0)
    }

    @Test func theAppliedLevelWaitsForApplyNotFlush() {
        let harness = GateHarness(standbys: 1, level: .applied)
        harness.commit(3)
        harness.ack(1, "east", flushed: 3, applied: 2)
        #expect(harness.released == [])
        harness.ack(1, "east", flushed: 3, applied: 3)
        #expect(harness.released == [3])
    }

    @Test func oneAckReleasesAWholeBatchAndNothingPastIt() {
        let harness = GateHarness(standbys: 1)
        harness.ack(1, "east", flushed: 0)
        (1...10).forEach { harness.commit(UInt64($0)) }
        harness.ack(1, "east", flushed: 7)
        #expect(harness.released == Array(1...7))
        #expect(harness.gate.status?.waitingCommits == 3)
    }

    @Test func aCommitAlreadyCoveredWhenItBecomesDurableIsReleasedAtOnce() {
        let harness = GateHarness(standbys: 1)
        harness.ack(1, "east", flushed: 8)
        harness.commit(8)
        #expect(harness.released == [8])
    }

    @Test func twoStandbysMeansTwoDistinctNodes() {
        let harness = GateHarness(standbys: 2)
        harness.commit(5)
        harness.ack(1, "east", flushed: 5)
        harness.ack(2, "east", flushed: 5)  // a second connection of the same node
        #expect(harness.released == [])
        #expect(harness.gate.status?.state == .waiting)
        #expect(harness.gate.status?.standbys == ["east"])
        harness.ack(3, "west", flushed: 5)
        #expect(harness.released == [5])
        #expect(harness.gate.status?.state == .synchronous)
        #expect(harness.gate.status?.standbys == ["east", "west"])
    }

    @Test func aDisconnectedStandbyStopsCountingAndItsAckNoLongerCovers() {
        let harness = GateHarness(standbys: 1)
        harness.ack(1, "east", flushed: 2)
        harness.gate.disconnected(1)
        #expect(harness.gate.status?.state == .waiting)
        harness.commit(3)
        #expect(harness.released == [])
        #expect(harness.logged("synchronous replication waiting") == 2)  // at start, and after the disconnect
    }

    @Test func withoutFallbackCommitsWaitAsLongAsItTakes() {
        let harness = GateHarness(standbys: 1)
        harness.commit(1)
        harness.loop.advanceTime(by: .seconds(3600))
        #expect(harness.released == [])
        #expect(harness.gate.status?.state == .waiting)
    }

    @Test func fallbackAfterTheDelayReleasesTheWaitersCountsAndLogsOnce() throws {
        let harness = GateHarness(standbys: 1, fallbackAfter: .seconds(2))
        harness.commit(1)
        harness.commit(2)
        harness.loop.advanceTime(by: .milliseconds(1900))
        #expect(harness.released == [])
        #expect(harness.gate.status?.state == .waiting)
        harness.loop.advanceTime(by: .milliseconds(200))
        #expect(harness.released == [1, 2])
        let status = try #require(harness.gate.status)
        #expect(status.state == .fallback)
        #expect(status.since == harness.clock.at(.seconds(2)).iso8601)
        #expect(harness.fallbacks.withLock { $0 } == 1)
        #expect(harness.logged("released 2 waiting commit(s)") == 1)
        harness.commit(3)
        #expect(harness.released == [1, 2, 3])
        harness.loop.advanceTime(by: .seconds(10))
        #expect(harness.fallbacks.withLock { $0 } == 1)
        #expect(harness.logged("fell back") == 1)
    }

    @Test func aStandbyThatCaughtUpEndsTheFallbackAndCommitsWaitAgain() {
        let harness = GateHarness(standbys: 1, fallbackAfter: .seconds(1))
        harness.loop.advanceTime(by: .seconds(1))
        #expect(harness.gate.status?.state == .fallback)
        harness.ack(1, "east", flushed: 0, caughtUp: false)  // connected, still catching up
        harness.commit(1)
        #expect(harness.released == [1])
        #expect(harness.gate.status?.state == .fallback)
        harness.ack(1, "east", flushed: 1, caughtUp: true)
        #expect(harness.gate.status?.state == .synchronous)
        #expect(harness.logged("synchronous replication: 1 of 1 standby(s) synchronous at level flushed (east)") == 1)
        harness.commit(2)
        #expect(harness.released == [1])
        harness.ack(1, "east", flushed: 2)
        #expect(harness.released == [1, 2])
        // Losing it again waits again, with a fresh delay, and counts a second fallback.
        harness.gate.disconnected(1)
        harness.commit(3)
        harness.loop.advanceTime(by: .milliseconds(900))
        #expect(harness.released == [1, 2])
        harness.loop.advanceTime(by: .milliseconds(100))
        #expect(harness.released == [1, 2, 3])
        #expect(harness.fallbacks.withLock { $0 } == 2)
    }

    @Test func aFencedNodeNeverFallsBack() {
        let harness = GateHarness(standbys: 1, fallbackAfter: .seconds(1), fenced: true)
        harness.commit(1)
        harness.loop.advanceTime(by: .seconds(5))
        #expect(harness.released == [])
        #expect(harness.gate.status?.state == .waiting)
        #expect(harness.fallbacks.withLock { $0 } == 0)
    }

    @Test func loweringTheNumberReleasesTheWaitersTheNewNumberCovers() {
        let harness = GateHarness(standbys: 2)
        harness.ack(1, "east", flushed: 0)
        harness.ack(2, "west", flushed: 0)
        (1...6).forEach { harness.commit(UInt64($0)) }
        harness.ack(1, "east", flushed: 5)
        harness.ack(2, "west", flushed: 3)
        #expect(harness.released == [1, 2, 3])
        let toOne = harness.gate.change(standbys: 1, level: nil)
        #expect(toOne.synchronous?.required == 1)
        // Both were told they are required: commits wait for each until it heard that it no longer is.
        #expect(toOne.released == 0)
        #expect(harness.gate.standing(for: "west").required == nil)
        harness.ack(1, "east", flushed: 5)
        #expect(harness.released == [1, 2, 3])
        harness.ack(2, "west", flushed: 3)
        #expect(harness.released == [1, 2, 3, 4, 5])
        let toZero = harness.gate.change(standbys: 0, level: nil)
        #expect(toZero.released == 1 && toZero.synchronous == nil)
        #expect(harness.released == [1, 2, 3, 4, 5, 6])
        harness.commit(7)
        #expect(harness.released.last == 7)
        #expect(harness.logged("replication is asynchronous") == 1)
    }

    @Test func raisingTheNumberFromZeroMakesCommitsWait() {
        let harness = GateHarness(standbys: 0)
        #expect(harness.gate.status == nil)
        harness.commit(1)
        #expect(harness.released == [1])
        let reply = harness.gate.change(standbys: 1, level: .received)
        #expect(reply.synchronous?.state == .waiting && reply.synchronous?.level == .received)
        harness.commit(2)
        harness.ack(1, "east", received: 2, flushed: 0)
        #expect(harness.released == [1, 2])
    }

    @Test func theOnlySynchronousStandbyIsToldItIsRequiredAndAnotherMakesNeitherRequired() throws {
        let harness = GateHarness(standbys: 1)
        #expect(harness.gate.standing(for: "east") == .notRequired)
        harness.ack(1, "east", flushed: 0)
        let told = try #require(harness.gate.standing(for: "east").required)
        #expect(told.level == .flushed && told.fallbackAfter == nil)
        #expect(told.since == harness.clock.now)
        let notice = harness.gate.standing(for: "east").notice
        harness.ack(2, "west", flushed: 0)
        // Any one of two will do: neither is required any more, each hears it with a new notice.
        #expect(harness.gate.standing(for: "east").required == nil)
        #expect(harness.gate.standing(for: "east").notice == notice + 1)
        #expect(harness.gate.standing(for: "west").required == nil)
        harness.loop.advanceTime(by: .seconds(5))
        harness.gate.disconnected(2)
        // Required again, since now: its standing was interrupted.
        let again = try #require(harness.gate.standing(for: "east").required)
        #expect(again.since == harness.clock.now && again.since != told.since)
    }

    @Test func aStandbyToldItIsRequiredHoldsCommitsUntilItHeardOtherwiseEvenWhenGone() {
        let harness = GateHarness(standbys: 1)
        harness.ack(1, "east", flushed: 0)
        let stale = harness.gate.standing(for: "east").notice
        harness.ack(2, "west", flushed: 0)
        // east is cut off before it hears that west now suffices: it still believes it is required.
        harness.gate.disconnected(1)
        harness.commit(1)
        harness.ack(2, "west", flushed: 1)
        #expect(harness.released == [])
        #expect(harness.gate.status?.state == .waiting)
        #expect(harness.gate.status?.awaitedStandbys == ["east"])
        // Back, with an ack still echoing the old notice: it has not heard yet.
        harness.ack(3, "east", flushed: 1, notice: stale)
        harness.gate.disconnected(2)
        harness.ack(3, "east", flushed: 1)
        #expect(harness.released == [1])
    }

    @Test func withAFallbackNoStandbyIsPinnedAndTheStandingSaysSo() throws {
        let harness = GateHarness(standbys: 1, fallbackAfter: .seconds(30))
        harness.ack(1, "east", flushed: 0)
        #expect(try #require(harness.gate.standing(for: "east").required).fallbackAfter == .seconds(30))
        harness.ack(2, "west", flushed: 0)
        harness.gate.disconnected(1)
        harness.commit(1)
        harness.ack(2, "west", flushed: 1)
        #expect(harness.released == [1])
    }

    @Test func anOperatorChangeStopsWaitingForDisconnectedStandbysAndSaysWhich() {
        let harness = GateHarness(standbys: 1)
        harness.ack(1, "east", flushed: 0)
        harness.ack(2, "west", flushed: 0)
        harness.gate.disconnected(1)
        harness.commit(1)
        harness.ack(2, "west", flushed: 1)
        #expect(harness.released == [])
        let reply = harness.gate.change(standbys: 1, level: nil)
        #expect(reply.released == 1 && harness.released == [1])
        #expect(harness.logged("commits no longer wait for disconnected standby(s) east") == 1)
        #expect(reply.synchronous?.state == .synchronous && reply.synchronous?.awaitedStandbys == [])
    }

    @Test func aStandbyIsToldItIsRequiredOnlyOnceThatIsDurable() {
        let harness = GateHarness(standbys: 1, holdSaves: true)
        harness.ack(1, "east", flushed: 0)
        #expect(harness.saves.withLock { $0 } == [["east"]])
        #expect(harness.gate.standing(for: "east") == .notRequired)
        // Commits wait for it already.
        harness.commit(1)
        harness.gate.disconnected(1)
        #expect(harness.released == [])
        harness.completeSave(durable: false)
        #expect(harness.gate.standing(for: "east") == .notRequired)
        #expect(harness.logged("cannot write synchronous.json") == 1)
        harness.ack(2, "east", flushed: 1)
        #expect(harness.released == [1])
        harness.completeSave(durable: true)
        #expect(harness.gate.standing(for: "east").required?.level == .flushed)
    }

    @Test func failingSavesAreLoggedOnceAndTheirRecoveryOnce() {
        let harness = GateHarness(standbys: 1, holdSaves: true)
        harness.ack(1, "east", flushed: 0)
        for flushed in 1...3 {
            harness.completeSave(durable: false)
            harness.ack(1, "east", flushed: UInt64(flushed))
        }
        #expect(harness.saves.withLock { $0.count } == 4, "each ack retried the save")
        #expect(harness.logged("cannot write synchronous.json") == 1)
        harness.completeSave(durable: true)
        #expect(harness.logged("synchronous.json written again") == 1)
        #expect(harness.gate.standing(for: "east").required?.level == .flushed)
    }

    @Test func aRestartedPrimaryWaitsForTheStandbysItHadToldTheyAreRequired() {
        let harness = GateHarness(standbys: 1, pinnedBeforeRestart: ["east"])
        #expect(harness.logged("told before a restart") == 1)
        harness.ack(1, "west", flushed: 0)
        harness.commit(1)
        harness.ack(1, "west", flushed: 1)
        #expect(harness.released == [])
        #expect(harness.gate.status?.state == .waiting && harness.gate.status?.awaitedStandbys == ["east"])
        // east is back: its welcome said it is no longer required (west suffices), and its ack shows it heard.
        #expect(harness.gate.standing(for: "east").required == nil)
        harness.ack(2, "east", flushed: 0)
        #expect(harness.released == [1])
        #expect(harness.saves.withLock { $0.last } == [])
    }

    /// The real repository's flush thread hands every durable commit to the gate and goes on: later
    /// commits are appended and made durable while the earlier ones wait.
    @Test func waitingCommitsDoNotHoldUpLaterOnes() throws {
        try withNode { fixture in
            let harness = GateHarness(standbys: 1)
            let durable = Locked<[Seqno]>([])
            for index in 0..<5 {
                let transaction = Transaction(operations: [.put(key: Array("k\(index)".utf8), value: [UInt8(index)])])
                fixture.node.repository.commit(transaction) { result in
                    guard case .success(let outcome) = result else { return }
                    harness.gate.acknowledge(outcome.seqno) { harness.releasedSeqnos.withLock { $0.append(outcome.seqno) } }
                    durable.withLockNotifying { $0.append(outcome.seqno) }
                }
            }
            #expect(durable.wait(timeout: .seconds(10)) { $0.count == 5 })
            #expect(harness.released == [])
            let last = try #require(durable.withLock { $0.max() })
            #expect(fixture.node.repository.status.applied.seqno >= last)
            harness.ack(1, "east", flushed: last.rawValue)
            #expect(harness.released.sorted() == durable.withLock { $0.map(\.rawValue).sorted() })
        }
    }
}

/// A gate on a fake loop and clock, recording released seqnos, fallbacks and log lines.
final class GateHarness: Sendable {
    let loop: FakeEventLoop
    let clock: FakeWallClock
    let gate: SynchronousGate
    let releasedSeqnos = Locked<[Seqno]>([])
    let fallbacks: Locked<Int>
    private let lines: Locked<[String]>

    /// Each save of the pinned standbys, in order; with `holdSaves`, the last one's completion waits
    /// for `completeSave`.
    let saves = Locked<[Set<String>]>([])
    private let pendingSave = Locked<(@Sendable (Bool) -> Void)?>(nil)

    init(
        standbys: Int, level: SynchronousLevel = .flushed, fallbackAfter: Duration? = nil, fenced: Bool = false,
        pinnedBeforeRestart: Set<String> = [], holdSaves: Bool = false
    ) {
        var settings = SynchronousSettings()
        settings.standbys = standbys
        settings.level = level
        settings.fallbackAfter = fallbackAfter
        let (lines, fallbacks, loop) = (Locked<[String]>([]), Locked(0), FakeEventLoop())
        let clock = FakeWallClock(loop: loop)
        (self.lines, self.fallbacks, self.loop, self.clock) = (lines, fallbacks, loop, clock)
        let logger = Logger(label: "synchronous-gate-tests") { _ in CapturingLogHandler(lines) }
        let (saves, pendingSave) = (saves, pendingSave)
        let pins = SynchronousPins(initial: pinnedBeforeRestart) { nodes, done in
            saves.withLock { $0.append(nodes) }
            if holdSaves { pendingSave.withLock { $0 = done } } else { done(true) }
        }
        gate = SynchronousGate(
            settings, loop: loop, clock: { clock.now }, isFenced: { fenced }, logger: logger, pins: pins,
            onFallback: { fallbacks.withLock { $0 += 1 } })
        loop.run()
    }

    /// Completes a held save, durable or failed.
    func completeSave(durable: Bool) {
        let done = pendingSave.withLock { done in
            defer { done = nil }
            return done
        }
        done?(durable)
        loop.run()
    }

    /// The seqnos released so far, in release order.
    var released: [UInt64] { releasedSeqnos.withLock { $0.map(\.rawValue) } }

    func commit(_ seqno: UInt64) {
        gate.acknowledge(Seqno(seqno)) { [releasedSeqnos] in releasedSeqnos.withLock { $0.append(Seqno(seqno)) } }
    }

    /// An ack from `node` on connection `shipper`, its shipper caught up unless told otherwise.
    /// An ack from `node` that heard the newest standing (unless `notice` says which it heard).
    func ack(
        _ shipper: Int, _ node: String, received: UInt64? = nil, flushed: UInt64, applied: UInt64 = 0, caughtUp: Bool = true,
        notice: UInt32? = nil
    ) {
        var status = ShipperStatus(peer: SocketAddress(host: "127.0.0.1", port: 40_000 + shipper))
        status.state = .streaming
        status.standby = SourceID(node)
        status.acked = Ack(
            received: Seqno(received ?? flushed), flushed: Seqno(flushed), applied: Seqno(applied),
            notice: notice ?? gate.standing(for: node).notice)
        defer { loop.run() }  // a save of the pinned standbys completes
        status.caughtUp = caughtUp
        gate.progressed(shipper, status)
    }

    /// Log lines containing `text`.
    func logged(_ text: String) -> Int {
        lines.withLock { $0.filter { $0.contains(text) }.count }
    }
}

/// Wall-clock time following the fake loop's time, from a fixed start.
final class FakeWallClock: Sendable {
    let loop: FakeEventLoop
    private let start = Timestamp(iso8601: "2026-12-01T00:00:00Z")!

    init(loop: FakeEventLoop) {
        self.loop = loop
    }

    var now: Timestamp { at(loop.now) }

    func at(_ elapsed: Duration) -> Timestamp {
        let (seconds, attoseconds) = elapsed.components
        return Timestamp(rawValue: start.rawValue + seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
    }
}

/// Keeps every message, for counting how often a change was logged.
struct CapturingLogHandler: LogHandler {
    let lines: Locked<[String]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    init(_ lines: Locked<[String]>) {
        self.lines = lines
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lines.withLock { $0.append(event.message.description) }
    }
}
