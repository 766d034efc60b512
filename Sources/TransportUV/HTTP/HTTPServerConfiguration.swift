import Transport

public struct HTTPServerConfiguration: Sendable, Equatable {
    /// Numeric address to listen on. Default `127.0.0.1`: exposing the API is an explicit choice.
    public var host = "127.0.0.1"
    /// Default 0: a free port, read back from `HTTPServer.address`.
    public var port = 0
    /// Request line plus header fields, in bytes; beyond it the answer is 431. Default 64 KiB.
    /// At most 80 KiB, http-parser's own compiled-in limit.
    public var maxHeaderBytes = 64 << 10
    /// Request body, in bytes; beyond it the answer is 413 (at once when Content-Length says so).
    /// Default 32 MiB: a large commit batch, yet bounded memory per connection.
    public var maxBodyBytes = 32 << 20
    /// A keep-alive connection with no request in progress is closed after this. Default 60 s.
    public var idleTimeout: Duration = .seconds(60)
    /// A request must arrive completely within this from its first byte, else 408 and close.
    /// Default 30 s: guards against slow clients holding connections open.
    public var requestTimeout: Duration = .seconds(30)
    /// Open connections at most; one more is answered 503 (`Retry-After`) and closed. Default 1,024.
    public var maxConnections = 1024
    /// Request body bytes buffered across every connection at most: a body that would go past it is
    /// answered 503 with `Retry-After` (its connection closed) before it is read. A declared
    /// Content-Length is reserved whole when the headers end; a chunked body chunk by chunk. Default 256 MiB.
    public var maxBufferedRequestBytes = 256 << 20
    /// A body in progress must grow by at least `minBodyBytesPerSecond` × the window's seconds in each
    /// `bodyRateWindow`, else 408 and close: a trickled body would hold its reservation until the
    /// request timeout. Default 16 KiB/s over 5 s windows (80 KiB per window).
    public var minBodyBytesPerSecond = 16 << 10
    public var bodyRateWindow: Duration = .seconds(5)

    public init() {}

    public func validate() throws(TransportError) {
        func require(_ condition: Bool, _ message: String) throws(TransportError) {
            if !condition {
                throw TransportError(operation: .configure, code: "EINVAL", message: message,
                                     address: SocketAddress(host: host, port: port))
            }
        }
        try require((0...65535).contains(port), "port must be in 0...65535")
        try require((1024...(80 << 10)).contains(maxHeaderBytes), "maxHeaderBytes must be in 1 KiB...80 KiB")
        try require(maxBodyBytes >= 0, "maxBodyBytes must not be negative")
        try require(idleTimeout > .zero, "idleTimeout must be positive")
        try require(requestTimeout > .zero, "requestTimeout must be positive")
        try require(maxConnections >= 1, "maxConnections must be at least 1")
        try require(maxBufferedRequestBytes >= maxBodyBytes, "maxBufferedRequestBytes must hold at least one body of maxBodyBytes")
        try require(minBodyBytesPerSecond >= 0, "minBodyBytesPerSecond must not be negative")
        try require(bodyRateWindow > .zero, "bodyRateWindow must be positive")
    }
}
