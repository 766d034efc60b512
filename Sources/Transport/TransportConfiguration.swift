/// Settings shared by every connection of a loop.
public struct TransportConfiguration: Sendable, Equatable {
    /// `write` answers `.queueFull` once this many bytes are queued. Default 1 MiB: a few loop turns of
    /// loopback throughput, small enough that a stalled peer pins little memory.
    public var writeHighWaterBytes: Int = 1 << 20
    /// `onWritable` fires when the queue drains to this. Default 256 KiB, so the producer refills in large
    /// batches rather than frame by frame.
    public var writeLowWaterBytes: Int = 256 << 10
    /// Size of the read buffer the loop reuses for every read. Default 64 KiB.
    public var readBufferBytes: Int = 64 << 10
    /// Pending-connection backlog of listeners. Default 128.
    public var listenBacklog: Int = 128
    /// A connection this loop opens with TLS fails, as a connect, if its handshake has not completed
    /// within this (a peer that accepts and says nothing). Accepted connections are bounded by their
    /// owners' timeouts instead. Default 10 s.
    public var tlsHandshakeTimeout: Duration = .seconds(10)
    /// How long the loop keeps polling after `EventLoop.pollBriefly()` before it sleeps. On a virtual
    /// machine whose idle vCPU halts, waking a sleeping loop costs tens of µs, which a lone commit
    /// pays twice (its answer from the flush side, the client's next request); polling spends CPU
    /// instead, and gives way to any other thread that wants the vCPU. Default zero: sleep at once.
    public var pollBudget: Duration = .zero

    public init() {}

    public func validate() throws(TransportError) {
        func require(_ condition: Bool, _ message: String) throws(TransportError) {
            if !condition { throw TransportError(operation: .configure, code: "EINVAL", message: message) }
        }
        try require(writeHighWaterBytes > 0, "writeHighWaterBytes must be positive")
        try require(
            writeLowWaterBytes >= 0 && writeLowWaterBytes < writeHighWaterBytes,
            "writeLowWaterBytes must be in 0..<writeHighWaterBytes")
        try require(readBufferBytes >= 1024, "readBufferBytes must be at least 1024")
        try require(listenBacklog > 0, "listenBacklog must be positive")
        try require(tlsHandshakeTimeout > .zero, "tlsHandshakeTimeout must be positive")
        try require(pollBudget >= .zero, "pollBudget must not be negative")
    }
}
