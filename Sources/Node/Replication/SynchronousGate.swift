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
/// Every state change happens on the loop, so the fallback timer is loop-confined
/// (`@unchecked Sendable` for it alone).
final class SynchronousGate: @unchecked Sendable {
    private let state: Locked<GateState>
    private let loop: any EventLoop
    private let clock: @Sendable () -> Timestamp
    private let isFenced: @Sendable () -> Bool
    private let onFallback: @Sendable () -> Void
    private let logger: Logger
    /// Armed while `waiting` with a fallback configured. Loop-confined.
    private var fallbackTimer: (any LoopTimer)?

    /// Call on the loop. `isFenced` (the repository's fence): a fenced primary must never acknowledge a
    /// commit its standbys lack, so it never falls back. `onFallback` counts
    /// each fallback (`understudy_synchronous_fallbacks_total`).
    init(
        _ settings: SynchronousSettings, loop: any EventLoop, clock: @escaping @Sendable () -> Timestamp = { .now() },
        isFenced: @escaping @Sendable () -> Bool, logger: Logger, onFallback: @escaping @Sendable () -> Void = {}
    ) {
        self.loop = loop
        self.clock = clock
        self.isFenced = isFenced
        self.onFallback = onFallback
        self.logger = logger
        state = Locked(GateState(settings: settings, since: clock()))
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
        update { $0.standbys[shipper] = GateStandby(node: node, acked: status.acked, caughtUp: status.caughtUp) }
    }

    /// A shipper's connection closed: its standby no longer counts. On the loop.
    func disconnected(_ shipper: Int) {
        update { $0.standbys[shipper] = nil }
    }

    /// `POST /admin/synchronous`: a new number of standbys (0: asynchronous) and optionally level. On the loop.
    func change(standbys: Int, level: SynchronousLevel?) -> SynchronousSetReply {
        let released = update { gate in
            gate.settings.standbys = standbys
            if let level { gate.settings.level = level }
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
        let (before, after, released) = state.withLock { gate in
            let before = gate.mode
            change(&gate)
            gate.mode = gate.nextMode()
            if gate.mode != before { gate.since = clock() }
            let released = gate.takeReleasable()
            return (before, gate.status, released)
        }
        released.forEach { $0.release() }
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

    /// The fallback timer ran out while still waiting.
    private func fallBack() {
        guard !isFenced() else {
            return logger.warning("synchronous replication keeps waiting: this node is fenced, and a fenced primary never falls back")
        }
        update { gate in if gate.mode == .waiting { gate.mode = .fallback } }
    }
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

    init(settings: SynchronousSettings, since: Timestamp) {
        self.settings = settings
        self.since = since
    }

    /// Whether a commit at `seqno` must wait: synchronous or waiting, and not yet covered.
    func holds(_ seqno: Seqno) -> Bool {
        switch mode {
        case nil, .fallback: false
        case .synchronous, .waiting: coveredThrough.map { seqno > $0 } ?? true
        }
    }

    mutating func enqueue(_ waiter: Waiter) {
        let index = waiters.lastIndex { $0.seqno <= waiter.seqno }.map { $0 + 1 } ?? 0
        waiters.insert(waiter, at: index)
    }

    /// The state the standbys give now. Only the fallback timer enters `fallback`; it lasts until
    /// enough standbys count again.
    func nextMode() -> SynchronousState? {
        guard settings.standbys > 0 else { return nil }
        if counted.count >= settings.standbys { return .synchronous }
        return mode == .fallback ? .fallback : .waiting
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
                waitingCommits: waiters.count)
        }
    }
}

extension SynchronousLevel {
    func position(in ack: Ack) -> Seqno {
        switch self {
        case .received: ack.received
        case .flushed: ack.flushed
        case .applied: ack.applied
        }
    }
}
