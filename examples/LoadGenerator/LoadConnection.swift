import Transport
import TransportUV

/// One keep-alive HTTP/1.1 connection of the load, with at most one request in flight, like a pgbench
/// client. Loop-confined. It reports each response, and the one failure that ends it, to its owner.
final class LoadConnection {
    struct Events {
        var onReady: (LoadConnection) -> Void
        /// The response, and the instant its latency is measured from (see `send`).
        var onResponse: (LoadConnection, HTTPResponse, ContinuousClock.Instant) -> Void
        /// Why the connection ended, and whether a request in flight was lost with it.
        var onFailure: (LoadConnection, String, _ lostRequest: Bool) -> Void
    }

    private let events: Events
    private let http: HTTPClientConnection
    private var failed = false

    init(loop: any EventLoop, address: SocketAddress, requestTimeout: Duration, events: Events) {
        self.events = events
        http = HTTPClientConnection(loop: loop, peer: address, configuration: HTTPClientConfiguration(timeout: requestTimeout))
    }

    /// Whether the connection can take the next request.
    var isUsable: Bool { !failed && http.isReusable }

    func connect() {
        http.onIdleClose = { [self] in fail("connection to \(http.peer) \($0)", lostRequest: false) }
        http.connect { [self] error in
            if let error { return fail("\(error)", lostRequest: false) }
            events.onReady(self)
        }
    }

    /// `latencyStart` is now in a closed loop; in an open loop it is when the request was released, so
    /// time spent waiting for a free connection counts (no coordinated omission).
    func send(_ request: HTTPClientRequest, latencyStart: ContinuousClock.Instant) {
        http.send(request) { [self] result in
            switch result {
            case .success(let response):
                // Read before reporting: the owner may send the next request from `onResponse`.
                let kept = http.isReusable
                events.onResponse(self, response, latencyStart)
                if !kept { fail("\(http.peer) closed the connection after a response", lostRequest: false) }
            case .failure(let error):
                fail("\(error)", lostRequest: true)
            }
        }
    }

    /// Ends the connection and reports why, once.
    private func fail(_ message: String, lostRequest: Bool) {
        guard !failed else { return }
        failed = true
        http.close()
        events.onFailure(self, message, lostRequest)
    }

    /// Ends the connection at the end of the run, reporting nothing.
    func close() {
        failed = true
        http.close()
    }
}
