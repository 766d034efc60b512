import Logging
import Transport

/// Called on the loop thread for each request; answer through the responder, now or later, from any thread.
public typealias HTTPHandler = @Sendable (HTTPRequest, HTTPResponder) -> Void

/// An HTTP/1.1 server on any `EventLoop`: keep-alive, pipelining (answered in order), size limits,
/// idle and slow-request timeouts, JSON errors. Loop-confined: create and close it on the loop thread.
/// It runs until `close()` or until its loop shuts down.
public final class HTTPServer {
    public let configuration: HTTPServerConfiguration
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let handler: HTTPHandler
    private var listener: (any Listener)?
    private var connections: [ObjectIdentifier: HTTPServerConnection] = [:]
    private let budget: HTTPRequestBudget

    public init(
        eventLoop: any EventLoop, configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
        logger: Logger, handler: @escaping HTTPHandler
    ) throws(TransportError) {
        try configuration.validate()
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.logger = logger
        self.handler = handler
        budget = HTTPRequestBudget(limit: configuration.maxBufferedRequestBytes)
        // The listener keeps the server alive until `close()`, so a caller need not hold on to it.
        listener = try eventLoop.listen(host: configuration.host, port: configuration.port) { [self] in
            accept($0)
        }
        logger.info("HTTP server listening", metadata: ["transport.address": "\(address)"])
    }

    /// Where the server listens, with the real port.
    public var address: SocketAddress {
        listener?.address ?? SocketAddress(host: configuration.host, port: configuration.port)
    }

    /// Stops listening and closes every connection; answers still pending are dropped.
    public func close() {
        listener?.close()
        listener = nil
        for connection in connections.values { connection.close(.local("HTTP server closing")) }
    }

    private func accept(_ connection: any Connection) {
        guard connections.count < configuration.maxConnections else { return refuse(connection) }
        let exchange = HTTPServerConnection(
            connection: connection, eventLoop: eventLoop, configuration: configuration, budget: budget, logger: logger,
            handler: handler,
            onClosed: { [weak self] in self?.connections[ObjectIdentifier($0)] = nil })
        connections[ObjectIdentifier(exchange)] = exchange
        exchange.start()
    }

    /// One connection past `maxConnections`: answered 503 before its request is read, then closed.
    /// A client that already sent its request may see the close (a reset) instead of the answer.
    private func refuse(_ connection: any Connection) {
        logger.debug("refusing a connection", metadata: ["transport.peer": "\(connection.peerAddress)"])
        let response = HTTPResponse.overloaded("the node has \(connections.count) connections open, its limit (--max-connections)")
        _ = connection.write(response.serialized(closing: true))
        connection.close(.local("over --max-connections"), mode: .afterFlush)
    }
}
