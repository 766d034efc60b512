/// The event-loop contract every network component is written against.
///
/// One loop thread owns every connection, listener and timer it creates: those objects are loop-confined
/// and may only be touched on the loop thread (`inEventLoop`). The only thread-safe entry point is
/// `execute(_:)`, the cross-thread wake-up. Implementations: `UVEventLoop` (libuv, in `TransportUV`) and
/// `FakeEventLoop` (in memory, controllable time, for deterministic tests).
public protocol EventLoop: AnyObject, Sendable {
    /// True when the caller runs on this loop's thread.
    var inEventLoop: Bool { get }

    /// Runs `work` on the loop thread on a later turn, in submission order. Callable from any thread.
    /// Work handed in after the loop stopped is dropped.
    func execute(_ work: @escaping @Sendable () -> Void)

    /// The clock the loop's timers follow, from an arbitrary start. Loop thread only.
    var now: Duration { get }

    /// Work for this loop is likely within microseconds (a request's answer from another thread, the
    /// client's next request): until `TransportConfiguration.pollBudget` from now, the loop polls
    /// rather than sleeps when it has nothing to do. Loop thread only.
    func pollBriefly()

    /// Calls `fire` after `delay`, then every `interval` if one is given, until cancelled. Loop thread only.
    func scheduleTimer(
        after delay: Duration, repeating interval: Duration?, _ fire: @escaping () -> Void
    ) -> any LoopTimer

    /// Listens on a numeric IPv4/IPv6 `host`; `port` 0 picks a free port (read it from `Listener.address`).
    /// Loop thread only.
    func listen(
        host: String, port: Int, onAccept: @escaping (any Connection) -> Void
    ) throws(TransportError) -> any Listener

    /// Opens a TCP connection to a numeric `host`; `completion` runs on the loop thread. Loop thread only.
    func connect(
        host: String, port: Int, _ completion: @escaping (Result<any Connection, TransportError>) -> Void
    )
}

extension EventLoop {
    /// One-shot timer.
    public func scheduleTimer(after delay: Duration, _ fire: @escaping () -> Void) -> any LoopTimer {
        scheduleTimer(after: delay, repeating: nil, fire)
    }
}

/// A pending one-shot or repeating timer. Loop-confined.
public protocol LoopTimer: AnyObject {
    /// Stops the timer; a cancelled timer never fires again. Cancelling twice is harmless.
    func cancel()
}

/// A listening socket. Loop-confined.
public protocol Listener: AnyObject {
    /// The bound address, with the real port when 0 was asked for.
    var address: SocketAddress { get }
    /// Stops accepting; connections already accepted stay open.
    func close()
}
