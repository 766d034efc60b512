import Logging
import Transport

/// A blocking HTTP/1.1 client for one server, on a libuv loop thread of its own. Connections are kept
/// alive and reused for successive requests; several threads may send at once, each on its own
/// connection. Call `close()` when done: it closes the connections and stops the loop thread.
///
/// A reused connection the server closed before answering is retried on a new one only when that
/// cannot apply a request twice: when no byte of it was sent, or for GET and HEAD (docs/DECISIONS.md).
///
/// `@unchecked Sendable`: the only mutable state, `idle`, is touched on the loop thread alone.
public final class HTTPClient: @unchecked Sendable {
    public let peer: SocketAddress
    public let configuration: HTTPClientConfiguration
    private let loop: UVEventLoop
    private let logger: Logger
    /// Kept-alive connections with no request in flight. Loop-confined.
    private var idle: [HTTPClientConnection] = []

    /// With `tls`, requests go over TLS (`https://`).
    public init(
        peer: SocketAddress, configuration: HTTPClientConfiguration = HTTPClientConfiguration(), tls: TLSContext? = nil, logger: Logger
    ) throws(TransportError) {
        self.peer = peer
        self.configuration = configuration
        self.logger = logger
        loop = try UVEventLoop(tls: tls, threadName: "http-client", logger: logger)
    }

    /// Sends `request` and waits for its complete response, whatever its status. Not on the client's
    /// own loop thread.
    public func send(_ request: HTTPClientRequest) throws(HTTPClientError) -> HTTPResponse {
        let outcome = Locked<Result<HTTPResponse, HTTPClientError>?>(nil)
        let deadline = ContinuousClock.now + configuration.timeout
        loop.execute { [self] in
            attempt(request, deadline: deadline) { result in outcome.withLockNotifying { $0 = result } }
        }
        // The request's own timer answers first; the margin only covers a loop that stopped running.
        guard outcome.wait(timeout: configuration.timeout + .seconds(5), until: { $0 != nil }) else {
            throw .timedOut(peer, configuration.timeout)
        }
        return try outcome.withLock { $0! }.get()
    }

    /// Closes every connection and stops the loop thread; requests still in flight fail.
    public func close() {
        loop.execute { [self] in
            for connection in idle { connection.close() }
            idle = []
        }
        loop.shutdown()
    }

    /// Kept-alive connections waiting for a request and not seen closed (for tests and diagnostics).
    var reusableConnectionCount: Int {
        loop.executeAndWait { [self] in idle.count(where: { $0.isReusable }) } ?? 0
    }

    // MARK: - On the loop thread

    private func attempt(
        _ request: HTTPClientRequest, deadline: ContinuousClock.Instant,
        completion: @escaping (Result<HTTPResponse, HTTPClientError>) -> Void
    ) {
        let connection = checkOut()
        let reused = connection.responsesReceived > 0
        connection.send(request, timeout: max(deadline - .now, .zero)) { [self] result in
            if case .failure(.closedBeforeResponse(_, let reason, let sent)) = result, reused, !sent || request.isSafeToRepeat {
                logger.debug("HTTP request sent again on a new connection: a kept-alive one closed before answering",
                             metadata: ["http.method": "\(request.method)", "transport.peer": "\(peer)", "transport.reason": "\(reason)"])
                return attempt(request, deadline: deadline, completion: completion)
            }
            if connection.isReusable { idle.append(connection) }
            // A retry ran on what was left of the time: the timeout to report is the whole of it.
            if case .failure(.timedOut) = result { return completion(.failure(.timedOut(peer, configuration.timeout))) }
            completion(result)
        }
    }

    /// The most recently used idle connection still open, else a new one.
    private func checkOut() -> HTTPClientConnection {
        while let connection = idle.popLast() {
            if connection.isReusable { return connection }
        }
        return HTTPClientConnection(loop: loop, peer: peer, configuration: configuration)
    }
}
