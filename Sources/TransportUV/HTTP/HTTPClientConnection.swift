import Transport

/// One keep-alive HTTP/1.1 connection to a server, with at most one request in flight (no pipelining).
/// It connects on `connect` or on the first `send`, and stays open between requests while the server
/// allows. Loop-confined: create and use it on its loop's thread; completions run there too.
public final class HTTPClientConnection {
    public typealias Completion = (Result<HTTPResponse, HTTPClientError>) -> Void

    private enum State {
        case unconnected
        case connecting
        case open(any Connection)
        case closed
    }

    private struct Exchange {
        var request: HTTPClientRequest
        var completion: Completion
        var timeout: Duration
        var sent = false
        /// The response's first bytes, for an error to quote.
        var start: [UInt8] = []
        var answering: Bool { !start.isEmpty }
    }

    public let peer: SocketAddress
    /// `Host`'s value, formatted once: every request carries it.
    private let host: String
    private let loop: any EventLoop
    private let configuration: HTTPClientConfiguration
    private let parser: HTTPMessageParser
    private var state = State.unconnected
    private var exchange: Exchange?
    private var connectWaiters: [(HTTPClientError?) -> Void] = []
    private var input: [UInt8] = []
    private lazy var deadline = LoopDeadline(eventLoop: loop) { [unowned self] in
        if let exchange { finish(.failure(.timedOut(peer, exchange.timeout)), reusable: false) }
    }
    /// Responses completed on this connection: above 0, a request reuses a kept-alive connection.
    public private(set) var responsesReceived = 0
    /// Told when the server ends the connection while no request is in flight.
    public var onIdleClose: ((CloseReason) -> Void)?

    public init(loop: any EventLoop, peer: SocketAddress, configuration: HTTPClientConfiguration = HTTPClientConfiguration()) {
        self.loop = loop
        self.peer = peer
        host = "\(peer)"
        self.configuration = configuration
        parser = HTTPMessageParser(.response, maxHeaderBytes: configuration.maxHeaderBytes, maxBodyBytes: configuration.maxBodyBytes)
    }

    /// No request in flight, and not seen closed: `send` may be called.
    public var isReusable: Bool {
        guard exchange == nil else { return false }
        if case .closed = state { return false }
        return true
    }

    /// Connects ahead of the first request; `done` gets nil once connected (at once when already).
    public func connect(_ done: @escaping (HTTPClientError?) -> Void) {
        switch state {
        case .open: return done(nil)
        case .closed: return done(.closedBeforeResponse(peer, reason: "connection already closed", requestSent: false))
        case .connecting: return connectWaiters.append(done)
        case .unconnected: break
        }
        state = .connecting
        connectWaiters.append(done)
        loop.connect(host: peer.host, port: peer.port) { [self] result in
            switch result {
            case .failure(let error):
                state = .closed
                notifyConnectWaiters(.cannotConnect(peer, error))
            case .success(let connection):
                opened(connection)
            }
        }
    }

    /// Sends `request` and completes with its response, or with why there is none, within `timeout`.
    public func send(_ request: HTTPClientRequest, timeout: Duration? = nil, completion: @escaping Completion) {
        precondition(isReusable, "one request at a time, on a connection not seen closed")
        let timeout = timeout ?? configuration.timeout
        exchange = Exchange(request: request, completion: completion, timeout: timeout)
        deadline.set(after: timeout)
        parser.nextResponseHasNoBody = request.expectsNoResponseBody
        connect { [self] error in
            if let error { return finish(.failure(error), reusable: false) }
            write()
        }
    }

    /// Closes now; a request in flight completes with `closedBeforeResponse` or `closedMidResponse`.
    public func close() {
        if let exchange { finish(.failure(cutShort(exchange, reason: "closed by this client")), reusable: false) }
        close(because: "HTTP client closing")
    }

    // MARK: - Connection events

    private func opened(_ connection: any Connection) {
        guard case .connecting = state else {
            connection.close(.local("closed while connecting"))
            return notifyConnectWaiters(.closedBeforeResponse(peer, reason: "closed while connecting", requestSent: false))
        }
        state = .open(connection)
        connection.start(ConnectionCallbacks(
            onRead: { [self] in received($0) },
            onClose: { [self] in closed($0) }))
        notifyConnectWaiters(nil)
    }

    private func notifyConnectWaiters(_ error: HTTPClientError?) {
        let waiters = connectWaiters
        connectWaiters = []
        for waiter in waiters { waiter(error) }
    }

    private func write() {
        guard exchange != nil, case .open(let connection) = state else { return }
        // One write: the queue takes it whole (only a write made while it is full is refused).
        if connection.write(exchange!.request.serialized(host: host)) == .closed {
            return finish(.failure(.closedBeforeResponse(peer, reason: "connection closing", requestSent: false)), reusable: false)
        }
        exchange!.sent = true
    }

    private func received(_ bytes: [UInt8]) {
        guard exchange != nil else { return close(because: "\(bytes.count) unexpected byte(s) with no request in flight") }
        if exchange!.start.count < Self.quotedBytes { exchange!.start += bytes.prefix(Self.quotedBytes - exchange!.start.count) }
        input += bytes
        parseInput()
    }

    private func parseInput() {
        while exchange != nil {
            switch parser.parse(&input) {
            case .needMoreInput:
                return
            case .message(let message) where (100..<200).contains(message.status):
                continue  // an interim response (100 Continue): the final one follows
            case .message(let message):
                // Bytes beyond the response were not asked for: the connection cannot be trusted further.
                finish(.success(message.response), reusable: message.keepAlive && input.isEmpty)
            case .failed(let failure):
                finish(.failure(error(failure, start: exchange!.start)), reusable: false)
            }
        }
    }

    private func closed(_ reason: CloseReason) {
        // Closed by this side first: `state` is already `.closed`, and any request in flight completed.
        guard case .open = state else { return }
        state = .closed
        guard let exchange else {
            deadline.cancel()
            return onIdleClose?(reason) ?? ()
        }
        // A response without Content-Length or chunking ends where the stream does.
        if exchange.answering, reason == .peerClosed, case .message(let message) = parser.parseEndOfInput(),
           !(100..<200).contains(message.status) {
            return finish(.success(message.response), reusable: false)
        }
        finish(.failure(cutShort(exchange, reason: "\(reason)")), reusable: false)
    }

    private func cutShort(_ exchange: Exchange, reason: String) -> HTTPClientError {
        exchange.answering ? .closedMidResponse(peer, reason: reason)
            : .closedBeforeResponse(peer, reason: reason, requestSent: exchange.sent)
    }

    /// How much of a malformed response its error quotes.
    private static let quotedBytes = 64

    private func error(_ failure: HTTPMessageParser.Failure, start: [UInt8]) -> HTTPClientError {
        switch failure {
        case .malformed(let detail):
            .malformedResponse(peer, detail: "\(detail); the response began \(String(decoding: start, as: UTF8.self).debugDescription)")
        case .headersTooLarge: .headersTooLarge(peer, limit: configuration.maxHeaderBytes)
        // A client reserves no budget (`reserveBody` stays open), so `.overloaded` comes only from a
        // server's parser; named as the nearest client error all the same.
        case .bodyTooLarge, .overloaded: .bodyTooLarge(peer, limit: configuration.maxBodyBytes)
        }
    }

    /// Completes the request in flight once; a connection that cannot carry another request closes.
    private func finish(_ result: Result<HTTPResponse, HTTPClientError>, reusable: Bool) {
        guard let finished = exchange else { return }
        exchange = nil
        deadline.clear()
        if case .success = result { responsesReceived += 1 }
        if !reusable { close(because: "the connection cannot carry another request") }
        finished.completion(result)
    }

    private func close(because reason: String) {
        if case .open(let connection) = state { connection.close(.local(reason)) }
        state = .closed
        deadline.cancel()
    }
}
