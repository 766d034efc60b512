import CLibUV
import Logging
import Transport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The libuv implementation of `EventLoop`: one thread runs one `uv_loop_t` and owns every socket and
/// timer created on it.
///
/// Other threads hand work in through `execute`, which appends to a locked queue and signals a
/// `uv_async_t` only on the empty→non-empty transition (libuv coalesces sends anyway; this keeps the
/// syscall off the hot path). `shutdown()` closes every handle, then the async handle, and joins the
/// thread; the `stopped` flag is set under the queue's lock before the async handle closes, so no
/// `uv_async_send` can race the close.
public final class UVEventLoop: EventLoop, @unchecked Sendable {
    public let configuration: TransportConfiguration
    let logger: Logger
    /// TLS on every connection this loop accepts or opens; nil for plain TCP.
    public let tls: TLSContext?

    let loop: UnsafeMutablePointer<uv_loop_t>
    private let wakeup: UnsafeMutablePointer<uv_async_t>
    private let flushIdle: UnsafeMutablePointer<uv_idle_t>
    /// Active while the loop polls (`pollBriefly`): an active idle handle keeps libuv's poll from
    /// blocking.
    private let pollIdle: UnsafeMutablePointer<uv_idle_t>
    private var thread = uv_thread_t()
    /// The loop thread's name in `top -H`, `perf` and `gdb` (at most 15 bytes, Linux's limit).
    private let threadName: String

    private struct Inbox {
        var work: [@Sendable () -> Void] = []
        var stopped = false
        var shutdownRequested = false
        var loopThread: uv_thread_t?
    }
    private let inbox = Locked(Inbox())

    // Loop-confined from here on.
    /// One buffer serves every read: reads are delivered (copied) before the next read is allocated.
    let readBuffer: UnsafeMutableRawBufferPointer
    private var resources: [ObjectIdentifier: any UVResource] = [:]
    private var connectionsToFlush: [UVConnection] = []
    /// When polling ends (`pollBriefly`).
    private var pollUntil: Duration = .zero
    /// Failed handshakes of accepted connections, logged once per peer host and reason per minute: a
    /// peer reconnecting in a loop (a standby without TLS) or a flood of garbage cannot fill the log.
    let tlsFailureLog: PeerMessageLimiter
    /// `Unmanaged` retains handed to libuv and not yet released; 0 after shutdown unless a handle leaked.
    private(set) var retainedContexts = 0

    public init(
        configuration: TransportConfiguration = TransportConfiguration(), tls: TLSContext? = nil, threadName: String = "uv-loop",
        logger: Logger
    ) throws(TransportError) {
        precondition(threadName.utf8.count <= 15, "thread name \(threadName) is longer than the 15 bytes Linux keeps")
        try configuration.validate()
        // A write to a socket its peer has closed raises SIGPIPE, whose default action ends the
        // process: a standby or client dropping mid-write would kill the node. libuv leaves this to
        // the application; with the signal ignored the write fails with EPIPE and only that
        // connection closes.
        signal(SIGPIPE, SIG_IGN)
        self.configuration = configuration
        self.tls = tls
        self.threadName = threadName
        self.logger = logger
        let origin = ContinuousClock.now
        tlsFailureLog = PeerMessageLimiter(now: { origin.duration(to: .now) })
        loop = .allocate(capacity: 1)
        wakeup = .allocate(capacity: 1)
        flushIdle = .allocate(capacity: 1)
        pollIdle = .allocate(capacity: 1)
        readBuffer = .allocate(byteCount: configuration.readBufferBytes, alignment: 16)
        try check(uv_loop_init(loop), .configure)
        loop.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        try check(uv_async_init(loop, wakeup) { handle in UVEventLoop.from(handle!.pointee.loop).drainInbox() },
                  .configure)
        try check(uv_idle_init(loop, flushIdle), .configure)
        try check(uv_idle_init(loop, pollIdle), .configure)
        try startThread()
    }

    deinit {
        readBuffer.deallocate()
        pollIdle.deallocate()
        flushIdle.deallocate()
        wakeup.deallocate()
        loop.deallocate()
    }

    private func check(_ status: Int32, _ operation: TransportError.Operation) throws(TransportError) {
        if status < 0 { throw TransportError(uvStatus: status, operation: operation) }
    }

    /// The thread holds a retain on the loop until `uv_run` returns.
    private func startThread() throws(TransportError) {
        let context = Unmanaged.passRetained(self).toOpaque()
        let status = uv_thread_create(&thread, { context in
            let eventLoop = Unmanaged<UVEventLoop>.fromOpaque(context!).takeRetainedValue()
            eventLoop.runOnThread()
        }, context)
        if status < 0 {
            Unmanaged<UVEventLoop>.fromOpaque(context).release()
            throw TransportError(uvStatus: status, operation: .configure)
        }
    }

    private func runOnThread() {
        nameCurrentThread()
        inbox.withLockNotifying { $0.loopThread = uv_thread_self() }
        uv_run(loop, UV_RUN_DEFAULT)
        let status = uv_loop_close(loop)
        if status != 0 {
            logger.error("event loop closed with handles still open", metadata: ["transport.error": "\(status)"])
        }
        logger.debug("event loop thread exiting")
    }

    /// Set by the thread itself (the shim's `prctl`: libuv 1.44 has no `uv_thread_setname`). Left
    /// unnamed, the loop thread showed as a dispatch worker, which made profiles hard to read.
    private func nameCurrentThread() {
        _ = understudy_name_current_thread(threadName)
    }

    static func from(_ loop: UnsafeMutablePointer<uv_loop_t>?) -> UVEventLoop {
        Unmanaged<UVEventLoop>.fromOpaque(loop!.pointee.data).takeUnretainedValue()
    }

    // MARK: - Cross-thread entry

    public var inEventLoop: Bool {
        var current = uv_thread_self()
        return inbox.withLock { state in
            guard var owner = state.loopThread else { return false }
            return uv_thread_equal(&owner, &current) != 0
        }
    }

    public func execute(_ work: @escaping @Sendable () -> Void) {
        inbox.withLock { state in
            guard !state.stopped else { return }
            state.work.append(work)
            if state.work.count == 1 { uv_async_send(wakeup) }
        }
    }

    private func drainInbox() {
        let batch = inbox.withLock { state in
            defer { state.work = [] }
            return state.work
        }
        for work in batch { work() }
    }

    /// Closes every connection, listener and timer, stops the loop and joins its thread. Blocks; not on
    /// the loop thread. Calling it again is harmless.
    public func shutdown() {
        precondition(!inEventLoop, "shutdown() on the loop thread would join itself")
        let first = inbox.withLock { state in
            defer { state.shutdownRequested = true }
            return !state.shutdownRequested
        }
        guard first else { return }
        execute { [self] in closeEverything() }
        uv_thread_join(&thread)
    }

    private func closeEverything() {
        logger.debug("event loop shutting down", metadata: ["transport.openHandles": "\(resources.count)"])
        for resource in resources.values { resource.closeForShutdown() }
        let dropped = inbox.withLock { state in
            state.stopped = true
            defer { state.work = [] }
            return state.work.count
        }
        if dropped > 0 { logger.debug("dropped work handed in during shutdown", metadata: ["transport.count": "\(dropped)"]) }
        uv_idle_stop(flushIdle)
        uv_idle_stop(pollIdle)
        uv_close(UnsafeMutableRawPointer(wakeup).assumingMemoryBound(to: uv_handle_t.self), nil)
        uv_close(UnsafeMutableRawPointer(flushIdle).assumingMemoryBound(to: uv_handle_t.self), nil)
        uv_close(UnsafeMutableRawPointer(pollIdle).assumingMemoryBound(to: uv_handle_t.self), nil)
    }

    // MARK: - Handle bookkeeping (loop thread)

    /// Pins `object` for a C callback's `data` pointer; balanced by `releaseContext`.
    func retainContext(_ object: AnyObject) -> UnsafeMutableRawPointer {
        retainedContexts += 1
        return Unmanaged.passRetained(object).toOpaque()
    }

    func releaseContext<Object: AnyObject>(_ pointer: UnsafeMutableRawPointer?, as: Object.Type) -> Object {
        retainedContexts -= 1
        return Unmanaged<Object>.fromOpaque(pointer!).takeRetainedValue()
    }

    func register(_ resource: any UVResource) {
        resources[ObjectIdentifier(resource)] = resource
    }

    func unregister(_ resource: any UVResource) {
        resources[ObjectIdentifier(resource)] = nil
    }

    /// Number of open handles (connections, listeners, timers); for tests.
    var openResourceCount: Int { resources.count }

    /// Writes are coalesced per loop turn: a connection asks for a flush and the idle handle, which also
    /// keeps the next poll from blocking, issues one `uv_write` per connection for everything queued.
    func requestFlush(_ connection: UVConnection) {
        connectionsToFlush.append(connection)
        if connectionsToFlush.count == 1 {
            uv_idle_start(flushIdle) { handle in UVEventLoop.from(handle!.pointee.loop).flushConnections() }
        }
    }

    // MARK: - Polling (loop thread)

    public func pollBriefly() {
        guard configuration.pollBudget > .zero else { return }
        pollUntil = now + configuration.pollBudget
        guard !isPolling else { return }
        uv_idle_start(pollIdle) { handle in UVEventLoop.from(handle!.pointee.loop).pollTurn() }
    }

    /// Whether the loop polls rather than sleeps when it has nothing to do.
    var isPolling: Bool { uv_is_active(UnsafeMutableRawPointer(pollIdle).assumingMemoryBound(to: uv_handle_t.self)) != 0 }

    /// Each turn of the loop while polling. Until the budget is spent the turn yields the vCPU, so a
    /// thread waiting for it (the tranlog's flush thread, a standby's applier on the same machine)
    /// runs first: the poll only takes time no one else wants. Past the budget, the loop sleeps
    /// again until an event wakes it.
    private func pollTurn() {
        if now >= pollUntil {
            uv_idle_stop(pollIdle)
        } else {
            sched_yield()
        }
    }

    private func flushConnections() {
        let batch = connectionsToFlush
        connectionsToFlush = []
        uv_idle_stop(flushIdle)
        for connection in batch { connection.flush() }
    }
}

/// A libuv handle's Swift owner, closed by `UVEventLoop.shutdown()` if still open.
protocol UVResource: AnyObject {
    func closeForShutdown()
}
