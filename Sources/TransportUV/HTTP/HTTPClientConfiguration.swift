/// Limits of an `HTTPClient` and its connections.
public struct HTTPClientConfiguration: Sendable, Equatable {
    /// Bounds each request: connecting, sending, and the complete response. Default 30 s.
    public var timeout: Duration = .seconds(30)
    /// Status line plus header fields, in bytes. Default 64 KiB.
    public var maxHeaderBytes = 64 << 10
    /// A response body is held in memory whole; beyond this the response fails. Default 64 MiB:
    /// above the server's request limit (a value read back), yet bounded.
    public var maxBodyBytes = 64 << 20

    public init(timeout: Duration = .seconds(30)) {
        self.timeout = timeout
    }
}
