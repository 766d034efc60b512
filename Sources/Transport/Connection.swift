/// A byte stream to one peer. Loop-confined: call it only on its loop's thread.
///
/// Nothing is read until `start(_:)`. Writes go to a bounded queue: once the queued bytes reach the
/// configured high-water mark, `write` answers `.queueFull` and refuses further bytes (`.rejected`) until
/// the queue drains to the low-water mark, which `ConnectionCallbacks.onWritable` announces.
public protocol Connection: AnyObject {
    var peerAddress: SocketAddress { get }
    /// Bytes accepted by `write` and not yet handed to the operating system (or to the fake peer).
    var queuedWriteBytes: Int { get }
    /// False between a `.queueFull` answer and the following `onWritable`.
    var isWritable: Bool { get }
    /// False once closing has begun.
    var isOpen: Bool { get }

    /// Installs the callbacks and starts reading.
    func start(_ callbacks: ConnectionCallbacks)
    func write(_ bytes: [UInt8]) -> WriteResult
    /// Stops reading (the peer's writes then back up); bytes already read may still be delivered.
    func pauseReading()
    func resumeReading()
    /// Closes; `onClose` follows on a later turn with `reason`. Closing twice is harmless.
    func close(_ reason: CloseReason, mode: CloseMode)
}

extension Connection {
    public func close(_ reason: CloseReason) {
        close(reason, mode: .immediately)
    }
}

/// What a connection tells its owner. All run on the loop thread.
public struct ConnectionCallbacks {
    /// Bytes in arrival order; never called once the connection is closing.
    public var onRead: ([UInt8]) -> Void
    /// The write queue drained to the low-water mark after a `.queueFull`.
    public var onWritable: () -> Void
    /// Called exactly once, after any pending writes were completed or cancelled.
    public var onClose: (CloseReason) -> Void

    public init(
        onRead: @escaping ([UInt8]) -> Void,
        onWritable: @escaping () -> Void = {},
        onClose: @escaping (CloseReason) -> Void = { _ in }
    ) {
        self.onRead = onRead
        self.onWritable = onWritable
        self.onClose = onClose
    }
}

public enum WriteResult: Sendable, Equatable {
    /// Queued; keep writing.
    case queued
    /// Queued, and the queue reached its high-water mark: wait for `onWritable` before writing again.
    case queueFull
    /// Not queued: the queue is full (the producer ignored `.queueFull`).
    case rejected
    /// Not queued: the connection is closing or closed.
    case closed
}

public enum CloseMode: Sendable, Equatable {
    /// Cancel pending writes now.
    case immediately
    /// Stop reading, send what is queued, then close.
    case afterFlush
    /// Abort with a TCP reset (RST), discarding pending writes; the peer sees `ECONNRESET`.
    case reset
}

public enum CloseReason: Sendable, Equatable, CustomStringConvertible {
    /// This side closed on purpose; the text says why (it is logged).
    case local(String)
    /// The peer finished sending (end of stream).
    case peerClosed
    /// The connection failed: reset by the peer, a write error, a refused connect.
    case failed(TransportError)

    public var description: String {
        switch self {
        case .local(let why): "closed locally: \(why)"
        case .peerClosed: "closed by peer"
        case .failed(let error): "failed: \(error)"
        }
    }
}
