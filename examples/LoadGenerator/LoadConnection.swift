import Transport

/// One keep-alive HTTP/1.1 connection of the load, with at most one request in flight, like a pgbench
/// client. Loop-confined. It reports each response, and the one failure that ends it, to its owner.
final class LoadConnection {
    struct Events {
        var onReady: (LoadConnection) -> Void
        /// The response, and the instant its latency is measured from (see `send`).
        var onResponse: (LoadConnection, ResponseReader.Response, ContinuousClock.Instant) -> Void
        var onFailure: (LoadConnection, String) -> Void
    }

    private let events: Events
    private var connection: (any Connection)?
    private var reader = ResponseReader()
    private var failed = false
    /// When the request in flight was written; nil when idle.
    private(set) var sentAt: ContinuousClock.Instant?
    private var latencyStart: ContinuousClock.Instant?

    init(events: Events) {
        self.events = events
    }

    func connect(on loop: any EventLoop, to address: SocketAddress) {
        loop.connect(host: address.host, port: address.port) { [self] result in
            switch result {
            case .failure(let error):
                fail("cannot connect to \(address): \(error)")
            case .success(let connection):
                self.connection = connection
                connection.start(ConnectionCallbacks(
                    onRead: { [self] in read($0) },
                    onClose: { [self] in fail("connection to \(address) \($0)") }))
                events.onReady(self)
            }
        }
    }

    /// `latencyStart` is now in a closed loop; in an open loop it is when the request was released, so
    /// time spent waiting for a free connection counts (no coordinated omission).
    func send(_ request: [UInt8], latencyStart: ContinuousClock.Instant) {
        precondition(sentAt == nil, "one request in flight per connection")
        sentAt = ContinuousClock.now
        self.latencyStart = latencyStart
        // Requests are far below the write queue's high-water mark, and only one is ever queued.
        _ = connection?.write(request)
    }

    private func read(_ bytes: [UInt8]) {
        reader.append(bytes)
        while !failed {
            switch reader.next() {
            case .needMoreBytes:
                return
            case .malformed(let detail):
                return fail("malformed response: \(detail)")
            case .response(let response):
                guard let start = latencyStart else { return fail("a response arrived with no request in flight") }
                sentAt = nil
                latencyStart = nil
                events.onResponse(self, response, start)
            }
        }
    }

    /// Ends the connection and reports why, once.
    func fail(_ message: String) {
        guard !failed else { return }
        failed = true
        connection?.close(.local(message))
        events.onFailure(self, message)
    }

    /// Ends the connection at the end of the run, reporting nothing.
    func close() {
        failed = true
        connection?.close(.local("load finished"))
    }
}
