/// An in-memory `EventLoop` with controllable time, for deterministic single-threaded tests (like
/// swift-nio's `EmbeddedEventLoop`).
///
/// Nothing happens on its own: `run()` performs everything ready now (work from `execute`, byte
/// deliveries between fake connections, accepts, close callbacks) and `advanceTime(by:)` additionally
/// fires due timers in deadline order. The test's thread is the loop thread. `execute` may be called from
/// other threads; that work runs at the next `run()`.
public final class FakeEventLoop: EventLoop, @unchecked Sendable {
    public let configuration: TransportConfiguration
    /// Time since the loop was created.
    public private(set) var now: Duration = .zero

    private let handedIn = Locked<[@Sendable () -> Void]>([])
    private var ready: [() -> Void] = []
    private var timers: [FakeTimer] = []
    private var nextTimerSequence = 0
    /// Timers armed so far, each repeat of a repeating timer counted.
    public var timersArmed: Int { nextTimerSequence }
    private var listeners: [Int: FakeListener] = [:]
    private var nextEphemeralPort = 40_000

    public init(configuration: TransportConfiguration = TransportConfiguration()) {
        precondition((try? configuration.validate()) != nil, "invalid TransportConfiguration")
        self.configuration = configuration
    }

    public var inEventLoop: Bool { true }

    /// The fake never sleeps; it counts the calls.
    public private(set) var pollRequests = 0

    public func pollBriefly() { pollRequests += 1 }

    public func execute(_ work: @escaping @Sendable () -> Void) {
        handedIn.withLock { $0.append(work) }
    }

    /// Performs all ready work, including work that work makes ready, until none is left.
    public func run() {
        while true {
            let external = handedIn.withLock { queue in
                defer { queue = [] }
                return queue
            }
            let local = ready
            ready = []
            if external.isEmpty && local.isEmpty { return }
            external.forEach { $0() }
            local.forEach { $0() }
        }
    }

    /// Moves time forward, firing every timer due on the way in deadline order (ties in scheduling
    /// order), with `now` set to each timer's deadline while it fires, and running ready work after each.
    public func advanceTime(by delta: Duration) {
        precondition(delta >= .zero, "time only moves forward")
        let target = now + delta
        run()
        while let timer = nextTimer(dueBy: target) {
            now = timer.deadline
            fire(timer)
            run()
        }
        now = target
    }

    public func scheduleTimer(
        after delay: Duration, repeating interval: Duration?, _ fire: @escaping () -> Void
    ) -> any LoopTimer {
        precondition(interval.map { $0 > .zero } ?? true, "a repeating timer needs a positive interval")
        let timer = FakeTimer(loop: self, deadline: now + max(delay, .zero), interval: interval, fire: fire)
        arm(timer, at: timer.deadline)
        return timer
    }

    public func listen(
        host: String, port: Int, onAccept: @escaping (any Connection) -> Void
    ) throws(TransportError) -> any Listener {
        let chosenPort = port == 0 ? allocatePort() : port
        let address = SocketAddress(host: host, port: chosenPort)
        if listeners[chosenPort] != nil {
            throw TransportError(operation: .bind, code: "EADDRINUSE", message: "address already in use",
                                 address: address)
        }
        let listener = FakeListener(loop: self, address: address, onAccept: onAccept)
        listeners[chosenPort] = listener
        return listener
    }

    public func connect(
        host: String, port: Int, _ completion: @escaping (Result<any Connection, TransportError>) -> Void
    ) {
        let target = SocketAddress(host: host, port: port)
        enqueue { [self] in
            guard let listener = listeners[port] else {
                completion(.failure(TransportError(operation: .connect, code: "ECONNREFUSED",
                                                   message: "connection refused", address: target)))
                return
            }
            let client = FakeConnection(loop: self, peerAddress: listener.address)
            let server = FakeConnection(loop: self, peerAddress: SocketAddress(host: host, port: allocatePort()))
            FakeConnection.pair(client, server)
            listener.onAccept(server)
            completion(.success(client))
        }
    }

    // MARK: - Used by the fake's parts

    func enqueue(_ work: @escaping () -> Void) {
        ready.append(work)
    }

    func removeListener(port: Int) {
        listeners[port] = nil
    }

    func arm(_ timer: FakeTimer, at deadline: Duration) {
        timer.deadline = deadline
        timer.sequence = nextTimerSequence
        nextTimerSequence += 1
        timers.append(timer)
    }

    func disarm(_ timer: FakeTimer) {
        timers.removeAll { $0 === timer }
    }

    private func nextTimer(dueBy target: Duration) -> FakeTimer? {
        timers.filter { $0.deadline <= target }.min { ($0.deadline, $0.sequence) < ($1.deadline, $1.sequence) }
    }

    private func fire(_ timer: FakeTimer) {
        disarm(timer)
        if let interval = timer.interval { arm(timer, at: timer.deadline + interval) }
        timer.fire()
    }

    private func allocatePort() -> Int {
        defer { nextEphemeralPort += 1 }
        return nextEphemeralPort
    }
}
