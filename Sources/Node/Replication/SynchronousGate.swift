import Logging
import Replication
import Tranlog
import Transport

/// Synchronous replication's settings (`start --synchronous-standbys N --synchronous-level L
/// --synchronous-fallback-after S`). The default, 0 standbys, is asynchronous replication.
public struct SynchronousSettings: Sendable, Equatable {
    /// Standbys that must have acknowledged a commit at `level` before its client hears of it.
    public var standbys = 0
    public var level = SynchronousLevel.flushed
    /// With too few synchronous standbys for this long, commits are acknowledged asynchronously
    /// (`fallback`) until enough caught up; nil: they wait as long as it takes.
    public var fallbackAfter: Duration?

    public init() {}
}

/// Holds each durable commit's acknowledgement until `required` distinct connected, streaming standbys
/// acknowledged its seqno at the level (PostgreSQL's synchronous_standby_names with ANY N).
///
/// Threads: the tranlog's completion thread hands in commits (`acknowledge`) and returns at once, so later
/// commits keep being group-committed while earlier ones wait. The loop thread feeds acks, closed
/// connections, run-time changes and the fallback timer; it only updates positions and releases,
/// never waits. One lock guards the state; releases (answers to clients) run after it is dropped.
/// Every state change happens on the loop, so the fallback timer and the save-failure flag are
/// loop-confined (`@unchecked Sendable` for them alone).
final class SynchronousGate: @unchecked Sendable {
    private let state: Locked<GateState>
    private let loop: any EventLoop
    private let clock: @Sendable () -> Timestamp
    private let isFenced: @Sendable () -> Bool
    private let onFallback: @Sendable () -> Void
    private let logger: Logger
    private let pins: SynchronousPins
    /// Armed while `waiting` with a fallback configured. Loop-confined.
    private var fallbackTimer: (any LoopTimer)?
    /// The last save of the pinned standbys failed. Loop-confined.
    private var saveFailing = false
    /// Called with the standbys whose standing changed, so they hear it now rather than at their
    /// next heartbeat. Loop-confined.
    var onStandingChanged: (Set<String>) -> Void = { _ in }

    /// Call on the loop. `isFenced` (the repository's fence): a fenced primary must never acknowledge a
    /// commit its standbys lack, so it never falls back. `onFallback` counts
    /// each fallback (`understudy_synchronous_fallbacks_total`). `pins`: the standbys an earlier run
    /// told are required, which commits wait for until they are back and heard otherwise.
    init(
        _ settings: SynchronousSettings, loop: any EventLoop, clock: @escaping @Sendable () -> Timestamp = { .now() },
        isFenced: @escaping @Sendable () -> Bool, logger: Logger, pins: SynchronousPins = .inMemory,
        onFallback: @escaping @Sendable () -> Void = {}
    ) {
        self.loop = loop
        self.clock = clock
        self.isFenced = isFenced
        self.onFallback = onFallback
        self.logger = logger
        self.pins = pins
        state = Locked(GateState(settings: settings, since: clock(), pinned: pins.initial))
        if !pins.initial.isEmpty {
            logger.notice("commits wait for standby(s) \(pins.initial.sorted().joined(separator: ", ")), told before a restart that they are synchronous, until they are back")
        }
        update { _ in }
    }

    /// From any thread (the tranlog's completion thread, once `seqno` is durable here): runs `release` when the commit
    /// may be acknowledged, at once if it already may.
    func acknowledge(_ seqno: Seqno, _ release: @escaping @Sendable () -> Void) {
        let waits = state.withLock { gate in
            guard gate.holds(seqno) else { return false }
            gate.enqueue(Waiter(seqno: seqno, release: release))
            return true
        }
        if !waits { release() }
    }

    /// A shipper admitted its standby or received an ack. On the loop.
    func progressed(_ shipper: Int, _ status: ShipperStatus) {
        guard status.state == .streaming, let node = status.standby?.name else { return }
        update { gate in
            gate.standbys[shipper] = GateStandby(node: node, acked: status.acked, caughtUp: status.caughtUp)
            gate.heard(node, status.acked)
        }
    }

    /// What the next heartbeat tells `node` of its standing. Any thread.
    func standing(for node: String) -> SynchronousStanding {
        state.withLock { $0.standings[node]?.announced ?? .notRequired }
    }

    /// A shipper's connection closed: its standby no longer counts (but may still be awaited). On the loop.
    func disconnected(_ shipper: Int) {
        update { $0.standbys[shipper] = nil }
    }

    /// `POST /admin/synchronous`: a new number of standbys (0: asynchronous) and optionally level. On the loop.
    func change(standbys: Int, level: SynchronousLevel?) -> SynchronousSetReply {
        let released = update { gate in
            gate.settings.standbys = standbys
            if let level { gate.settings.level = level }
            let unpinned = gate.unpinDisconnected()
            if !unpinned.isEmpty {
                logger.warning(
                    Logger.Message(stringLiteral: "commits no longer wait for disconnected standby(s) \(unpinned.joined(separator: ", ")), which were told they are synchronous: "
                        + "promoting one of them may now lose acknowledged commits that its report does not count"))
            }
        }
        let settings = state.withLock { $0.settings }
        let now = settings.standbys == 0
            ? "commits are acknowledged asynchronously"
            : "commits wait for \(settings.standbys) standby(s) at level \(settings.level.rawValue)"
        return SynchronousSetReply(
            synchronous: status, released: released, message: "\(now); \(released) waiting commit(s) acknowledged by this change")
    }

    /// `synchronous` of `GET /status`; nil while asynchronous (0 standbys required). Any thread.
    var status: SynchronousReplicationStatus? {
        state.withLock { $0.status }
    }

    /// Applies `change`, then its consequences: the state the standbys now give, the waiters that may
    /// be released, the fallback timer, one log line per state change. Returns how many were released.
    @discardableResult
    private func update(_ change: (inout GateState) -> Void) -> Int {
        precondition(loop.inEventLoop, "SynchronousGate changes state on the loop only")
        let (before, after, released, changed, toSave) = state.withLock { gate in
            let before = gate.mode
            change(&gate)
            gate.mode = gate.nextMode()
            let now = clock()
            if gate.mode != before { gate.since = now }
            let changed = gate.announceStandings(at: now)
            let released = gate.takeReleasable()
            return (before, gate.status, released, changed, gate.pinsToSave())
        }
        released.forEach { $0.release() }
        if !changed.isEmpty { onStandingChanged(changed) }
        if let toSave {
            pins.save(toSave) { [self] durable in loop.execute { self.saved(toSave, durable: durable) } }
        }
        if after?.state != before { entered(after, released: released.count) }
        return released.count
    }

    private func entered(_ status: SynchronousReplicationStatus?, released: Int) {
        fallbackTimer?.cancel()
        fallbackTimer = nil
        guard let status else {
            return logger.notice("replication is asynchronous: commits no longer wait for standbys", metadata: ["released": "\(released)"])
        }
        let counted = "\(status.standbys.count) of \(status.required) standby(s) synchronous at level \(status.level.rawValue)"
            + (status.standbys.isEmpty ? "" : " (\(status.standbys.joined(separator: ", ")))")
            + (status.awaitedStandbys.isEmpty ? "" : "; also waiting for \(status.awaitedStandbys.joined(separator: ", ")), told they are synchronous")
        switch status.state {
        case .synchronous:
            logger.notice("synchronous replication: \(counted); commits wait for their acks")
        case .waiting:
            let fallbackAfter = state.withLock { $0.settings.fallbackAfter }
            let until = fallbackAfter.map { " or fall back to asynchronous after \($0)" } ?? ""
            logger.warning("synchronous replication waiting: only \(counted); commits wait for enough standbys\(until)")
            if let fallbackAfter { fallbackTimer = loop.scheduleTimer(after: fallbackAfter) { [weak self] in self?.fallBack() } }
        case .fallback:
            onFallback()
            logger.error(
                "synchronous replication fell back to asynchronous: only \(counted); released \(released) waiting commit(s); commits are acknowledged without standbys until enough caught up")
        }
    }

    /// A save of the pinned standbys ended: once durable, those it added may be told they are required.
    private func saved(_ nodes: Set<String>, durable: Bool) {
        // Saves are retried with every ack: say so once when they start failing, once when one works.
        if !durable && !saveFailing {
            logger.error("cannot write synchronous.json: standbys are not told they are synchronous (commits wait for them all the same); retrying with each ack")
        } else if durable && saveFailing {
            logger.notice("synchronous.json written again: standbys are told their synchronous standing")
        }
        saveFailing = !durable
        update { gate in
            gate.saving = false
            if durable { gate.persisted = nodes }
        }
    }

    /// The fallback timer ran out while still waiting.
    private func fallBack() {
        guard !isFenced() else {
            return logger.warning("synchronous replication keeps waiting: this node is fenced, and a fenced primary never falls back")
        }
        update { gate in if gate.mode == .waiting { gate.mode = .fallback } }
    }
}

/// The standbys a primary told are required, kept where a restart finds them (`SynchronousPinFile`):
/// `initial` as found at start; `save` writes a set off the loop and calls back (on any thread) with
/// whether it is durable.
struct SynchronousPins: Sendable {
    var initial: Set<String>
    var save: @Sendable (Set<String>, @escaping @Sendable (Bool) -> Void) -> Void

    /// Nothing kept: for tests that are not about restarts.
    static let inMemory = SynchronousPins(initial: []) { _, done in done(true) }
}

/// A commit whose client waits for standbys.
private struct Waiter {
    let seqno: Seqno
    let release: @Sendable () -> Void
}

/// One streaming connection's standby and its last ack.
private struct GateStandby {
    let node: String
    let acked: Ack
    /// Its shipper sent everything durable once (`ShipperStatus.caughtUp`): it counts as synchronous.
    let caughtUp: Bool
}

/// What one standby node was told of its synchronous standing.
private struct NodeStanding {
    let node: String
    var announced = SynchronousStanding.notRequired
    /// Told it is required (without a fallback) and not yet known to have heard otherwise.
    var pinned = false
    /// Its highest ack at the level, kept after it disconnects.
    var position = Seqno.zero
}

/// Everything `SynchronousGate` guards with its lock.
private struct GateState {
    var settings: SynchronousSettings
    /// By shipper: two connections of one node (a reconnect before the old one closed) count once.
    var standbys: [Int: GateStandby] = [:]
    /// Oldest seqno first.
    var waiters: [Waiter] = []
    /// Nil while asynchronous.
    var mode: SynchronousState?
    var since: Timestamp
    /// By node: what it was told of its standing, and whether commits must wait for it.
    var standings: [String: NodeStanding] = [:]
    /// The pinned standbys as last made durable, and whether a save is under way.
    var persisted: Set<String>
    var saving = false

    init(settings: SynchronousSettings, since: Timestamp, pinned: Set<String>) {
        self.settings = settings
        self.since = since
        persisted = pinned
        for node in pinned { standings[node] = NodeStanding(node: node, pinned: true) }
    }

    /// The pinned standbys to make durable now, unless a save is under way or nothing changed.
    mutating func pinsToSave() -> Set<String>? {
        let pinned = Set(awaited.map(\.node))
        guard !saving, pinned != persisted else { return nil }
        saving = true
        return pinned
    }

    /// Whether a commit at `seqno` must wait: for a standby that may believe it is required (even
    /// after the settings changed: until it heard), and while synchronous or waiting, for enough acks.
    func holds(_ seqno: Seqno) -> Bool {
        if awaited.contains(where: { $0.position < seqno }) { return true }
        switch mode {
        case nil, .fallback: return false
        case .synchronous, .waiting: return coveredThrough.map { seqno > $0 } ?? true
        }
    }

    /// Standbys told they are required that may still believe it: a commit waits for each of them
    /// too, connected or not, so a standby that lost its primary while believing it is required
    /// lacks no acknowledged commit.
    var awaited: [NodeStanding] {
        standings.values.filter(\.pinned)
    }

    mutating func enqueue(_ waiter: Waiter) {
        let index = waiters.lastIndex { $0.seqno <= waiter.seqno }.map { $0 + 1 } ?? 0
        waiters.insert(waiter, at: index)
    }

    /// The state the standbys give now. Only the fallback timer enters `fallback`; it lasts until
    /// enough standbys count again.
    func nextMode() -> SynchronousState? {
        guard settings.standbys > 0 else { return nil }
        let counted = Set(counted)
        if counted.count >= settings.standbys && awaited.allSatisfy({ counted.contains($0.node) }) { return .synchronous }
        return mode == .fallback ? .fallback : .waiting
    }

    /// Which standbys are required now, while commits wait for standbys (never in fallback or
    /// asynchronous): the counted ones and those commits still wait for, when there are no more of
    /// them than a commit needs. A required standby that disconnects or falls behind stays required:
    /// commits go on waiting for it, so what it was told stays true.
    var required: Set<String> {
        guard mode == .synchronous || mode == .waiting else { return [] }
        let candidates = Set(counted).union(awaited.map(\.node))
        return candidates.count <= settings.standbys ? candidates : []
    }

    /// Gives each standby whose standing changed a new notice for its next heartbeat. A standby
    /// becomes pinned when told it is required, but only without a fallback: with one, the primary
    /// may acknowledge without it anyway, which its standing says.
    /// Returns the standbys whose standing changed.
    mutating func announceStandings(at now: Timestamp) -> Set<String> {
        var changed: Set<String> = []
        let required = required
        for node in Set(standings.keys).union(required) {
            var standing = standings[node] ?? NodeStanding(node: node)
            let before = standing.announced.required
            let wanted = required.contains(node)
                ? SynchronousStanding.Required(
                    level: settings.level, since: before.flatMap { $0.level == settings.level ? $0.since : nil } ?? now,
                    fallbackAfter: settings.fallbackAfter)
                : nil
            if wanted != before {
                if let wanted, wanted.fallbackAfter == nil {
                    // Commits wait for it from now on; it is told only once that is durable.
                    standing.pinned = true
                    guard persisted.contains(node) else {
                        standings[node] = standing
                        continue
                    }
                }
                standing.announced = SynchronousStanding(notice: standing.announced.notice + 1, required: wanted)
                changed.insert(node)
            }
            standings[node] = standing
        }
        return changed
    }

    /// `node` acked: its position, and whether it heard that it is no longer required.
    mutating func heard(_ node: String, _ ack: Ack) {
        var standing = standings[node] ?? NodeStanding(node: node)
        standing.position = max(standing.position, settings.level.position(in: ack))
        if standing.announced.required == nil && ack.notice >= standing.announced.notice { standing.pinned = false }
        standings[node] = standing
    }

    /// An operator's `synchronous set`: disconnected standbys stop holding commits. Returns them.
    mutating func unpinDisconnected() -> [String] {
        let connected = Set(standbys.values.map(\.node))
        let dropped = awaited.map(\.node).filter { !connected.contains($0) }.sorted()
        dropped.forEach { standings[$0]?.pinned = false }
        return dropped
    }

    /// Removes and returns the waiters that may be acknowledged now.
    mutating func takeReleasable() -> [Waiter] {
        let count = waiters.prefix { !holds($0.seqno) }.count
        defer { waiters.removeFirst(count) }
        return Array(waiters.prefix(count))
    }

    /// The highest seqno that `required` distinct standbys acked at the level; nil with fewer connected.
    var coveredThrough: Seqno? {
        let required = settings.standbys
        guard required > 0 else { return nil }
        let best = Dictionary(standbys.values.map { ($0.node, settings.level.position(in: $0.acked)) }, uniquingKeysWith: max)
        let positions = best.values.sorted(by: >)
        return positions.count >= required ? positions[required - 1] : nil
    }

    /// The node ids counted as synchronous: streaming and caught up once.
    var counted: [String] {
        Set(standbys.values.filter(\.caughtUp).map(\.node)).sorted()
    }

    var status: SynchronousReplicationStatus? {
        mode.map { mode in
            SynchronousReplicationStatus(
                required: settings.standbys, level: settings.level, state: mode, since: since.iso8601, standbys: counted,
                awaitedStandbys: awaited.map(\.node).filter { !counted.contains($0) }.sorted(), waitingCommits: waiters.count)
        }
    }
}
