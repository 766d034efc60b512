/// One end of an in-memory connection pair of a `FakeEventLoop`.
///
/// Bytes written on one end reach the other end's `onRead` at the loop's next `run()`, unless that end
/// paused reading (or never started): then they stay queued on the writer, whose backpressure follows
/// the loop's `TransportConfiguration` exactly as a real connection's would. `injectReset()` simulates
/// the network aborting the connection.
public final class FakeConnection: Connection {
    private enum State {
        case open
        case draining(CloseReason)
        case closed
    }

    public let peerAddress: SocketAddress
    public private(set) var queuedWriteBytes = 0
    public private(set) var isWritable = true
    /// True after `pauseReading()` until `resumeReading()`.
    public private(set) var isReadingPaused = false

    private unowned let loop: FakeEventLoop
    private var remote: FakeConnection?
    private var callbacks: ConnectionCallbacks?
    private var outbound: [[UInt8]] = []
    private var state = State.open
    private var deliveryScheduled = false

    init(loop: FakeEventLoop, peerAddress: SocketAddress) {
        self.loop = loop
        self.peerAddress = peerAddress
    }

    static func pair(_ first: FakeConnection, _ second: FakeConnection) {
        first.remote = second
        second.remote = first
    }

    public var isOpen: Bool {
        if case .open = state { return true }
        return false
    }

    public func start(_ callbacks: ConnectionCallbacks) {
        precondition(self.callbacks == nil, "start called twice")
        guard isOpen else { return }
        self.callbacks = callbacks
        remote?.scheduleDelivery()
    }

    public func write(_ bytes: [UInt8]) -> WriteResult {
        guard isOpen else { return .closed }
        guard isWritable else { return .rejected }
        guard !bytes.isEmpty else { return .queued }
        outbound.append(bytes)
        queuedWriteBytes += bytes.count
        scheduleDelivery()
        if queuedWriteBytes >= loop.configuration.writeHighWaterBytes {
            isWritable = false
            return .queueFull
        }
        return .queued
    }

    public func pauseReading() {
        isReadingPaused = true
    }

    public func resumeReading() {
        isReadingPaused = false
        remote?.scheduleDelivery()
    }

    public func close(_ reason: CloseReason, mode: CloseMode) {
        switch (state, mode) {
        case (.closed, _), (.draining, .afterFlush):
            return
        case (_, .afterFlush) where queuedWriteBytes > 0:
            state = .draining(reason)
            scheduleDelivery()
        case (_, .reset):
            finish(reason, peerSees: .failed(Self.resetError(peer: remote?.peerAddress)))
        default:
            finish(reason, peerSees: .peerClosed)
        }
    }

    /// The network aborts the connection: both ends see `ECONNRESET`.
    public func injectReset() {
        if case .closed = state { return }
        finish(.failed(Self.resetError(peer: peerAddress)),
               peerSees: .failed(Self.resetError(peer: remote?.peerAddress)))
    }

    // MARK: - Delivery

    private var canReceive: Bool {
        isOpen && callbacks != nil && !isReadingPaused
    }

    private func scheduleDelivery() {
        guard !deliveryScheduled else { return }
        deliveryScheduled = true
        loop.enqueue { [self] in
            deliveryScheduled = false
            deliver()
        }
    }

    /// Hands queued bytes to the remote end while it accepts them; then reports drain and finishes a
    /// pending close-after-flush.
    private func deliver() {
        while let remote, remote.canReceive, !outbound.isEmpty {
            let chunk = outbound.removeFirst()
            queuedWriteBytes -= chunk.count
            remote.callbacks?.onRead(chunk)
        }
        if case .draining(let reason) = state, queuedWriteBytes == 0 {
            finish(reason, peerSees: .peerClosed)
            return
        }
        if !isWritable && queuedWriteBytes <= loop.configuration.writeLowWaterBytes && isOpen {
            isWritable = true
            callbacks?.onWritable()
        }
    }

    // MARK: - Closing

    private func finish(_ reason: CloseReason, peerSees peerReason: CloseReason) {
        state = .closed
        outbound = []
        queuedWriteBytes = 0
        let closedCallbacks = callbacks
        callbacks = nil
        let peer = remote
        remote = nil
        loop.enqueue { closedCallbacks?.onClose(reason) }
        peer?.remoteDidClose(peerReason)
    }

    private func remoteDidClose(_ reason: CloseReason) {
        remote = nil
        // The remote end is gone; what we still had queued for it can never arrive.
        if case .closed = state { return }
        finish(reason, peerSees: reason)
    }

    private static func resetError(peer: SocketAddress?) -> TransportError {
        TransportError(operation: .read, code: "ECONNRESET", message: "connection reset by peer", address: peer)
    }
}
