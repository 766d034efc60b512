import Transport
import TransportUV

/// Drives one run on an event loop: opens the connections, hands out requests (closed or open loop),
/// measures every answer, stops at the limit and reports once. Loop-confined: create and `start` it
/// on the loop thread; the open loop's pacer only posts work to the loop (hence `@unchecked`).
final class LoadRun: @unchecked Sendable {
    private let plan: LoadPlan
    private let loop: any EventLoop
    private let requests: PutRequests
    private let onProgress: (LoadStatistics, ContinuousClock.Instant) -> Void
    private let onFinish: (LoadReport) -> Void
    private var keyGenerator = SplitMix64(seed: UInt64.random(in: 0...UInt64.max))

    private var statistics = LoadStatistics()
    private let startedAt = ContinuousClock.now
    private var live: [ObjectIdentifier: LoadConnection] = [:]
    private var idle: [LoadConnection] = []
    private var inFlight = 0
    private var started = 0
    /// Open loop: when each request was released; those not yet handed to a connection.
    private var backlog: [ContinuousClock.Instant] = []
    private var backlogStart = 0
    private var stopping = false
    private var finished = false
    private var timers: [any LoopTimer] = []
    private let pacer: OpenLoopPacer?

    static let progressInterval = Duration.milliseconds(500)

    init(
        plan: LoadPlan, loop: any EventLoop, onProgress: @escaping (LoadStatistics, ContinuousClock.Instant) -> Void,
        onFinish: @escaping (LoadReport) -> Void
    ) {
        self.plan = plan
        self.loop = loop
        self.onProgress = onProgress
        self.onFinish = onFinish
        requests = PutRequests(plan: plan)
        pacer = plan.rate.map(OpenLoopPacer.init)
    }

    func start() {
        let events = LoadConnection.Events(
            onReady: { [self] in becameIdle($0) },
            onResponse: { [self] in received($1, since: $2, on: $0) },
            onFailure: { [self] in failed($0, $1, lostRequest: $2) })
        for _ in 0..<plan.clients {
            let connection = LoadConnection(loop: loop, address: plan.address, requestTimeout: plan.requestTimeout, events: events)
            live[ObjectIdentifier(connection)] = connection
            connection.connect()
        }
        if case .duration(let duration) = plan.limit {
            timers.append(loop.scheduleTimer(after: duration) { [self] in stop() })
        }
        pacer?.start(from: startedAt) { [self] due in loop.execute { [self] in release(due) } }
        timers.append(loop.scheduleTimer(after: Self.progressInterval, repeating: Self.progressInterval) { [self] in tick() })
    }

    // MARK: - Handing out requests

    private var budgetLeft: Bool {
        guard case .commits(let limit) = plan.limit else { return true }
        return started + (backlog.count - backlogStart) < limit
    }

    /// The latency start of the next request, or nil when none should start now.
    private func nextRequestStart() -> ContinuousClock.Instant? {
        guard !stopping else { return nil }
        guard plan.rate != nil else { return budgetLeft ? .now : nil }
        guard backlogStart < backlog.count else { return nil }
        defer { backlogStart += 1 }
        return backlog[backlogStart]
    }

    private func dispatch() {
        while let connection = idle.last, let start = nextRequestStart() {
            idle.removeLast()
            started += 1
            inFlight += 1
            connection.send(requests.request(key: Int.random(in: 0..<plan.keys, using: &keyGenerator)), latencyStart: start)
        }
        finishIfDone()
    }

    /// Open loop: queues the request scheduled for `due`, then hands requests out. A request's latency
    /// counts from its scheduled instant, so waiting for a free connection counts (no coordinated
    /// omission), and so does any delay in posting it to the loop.
    private func release(_ due: ContinuousClock.Instant) {
        guard !stopping, budgetLeft else { return }
        backlog.append(due)
        compactBacklog()
        dispatch()
    }

    private func compactBacklog() {
        guard backlogStart > 4096, backlogStart * 2 > backlog.count else { return }
        backlog.removeFirst(backlogStart)
        backlogStart = 0
    }

    // MARK: - Events

    private func becameIdle(_ connection: LoadConnection) {
        idle.append(connection)
        dispatch()
    }

    private func received(_ response: HTTPResponse, since start: ContinuousClock.Instant, on connection: LoadConnection) {
        inFlight -= 1
        if response.status == 200 {
            statistics.recordCommit(latency: .now - start)
        } else {
            statistics.recordError("HTTP \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        }
        if connection.isUsable { becameIdle(connection) }
    }

    private func failed(_ connection: LoadConnection, _ message: String, lostRequest: Bool) {
        guard !finished else { return }
        statistics.recordError(message)
        if lostRequest { inFlight -= 1 }
        live[ObjectIdentifier(connection)] = nil
        idle.removeAll { $0 === connection }
        if live.isEmpty { stopping = true }
        finishIfDone()
    }

    /// Progress (each connection times its own request out).
    private func tick() {
        onProgress(statistics, startedAt)
    }

    // MARK: - Stopping

    private func stop() {
        stopping = true
        finishIfDone()
    }

    /// Every request the limit allows was handed out (none are waiting in the open-loop backlog).
    private var allHandedOut: Bool { !budgetLeft && backlogStart == backlog.count }

    private func finishIfDone() {
        guard !finished, inFlight == 0, stopping || allHandedOut else { return }
        finished = true
        pacer?.stop()
        for timer in timers { timer.cancel() }
        for connection in live.values { connection.close() }
        onFinish(LoadReport(
            plan: plan, statistics: statistics, elapsed: .now - startedAt, notStarted: backlog.count - backlogStart))
    }
}
