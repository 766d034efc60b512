import Logging
import Transport
import TransportUV

/// A small blocking HTTP/1.1 client for a node's API, on its own libuv loop (the project's only
/// networking). Each request takes a new connection (`Connection: close`): the CLI sends one request
/// per run, and a fresh connection per request keeps the client free of connection state.
/// Call `close()` when done: it stops the loop thread.
public final class NodeClient: Sendable {
    public static let defaultURL = "http://127.0.0.1:7480"

    public let address: SocketAddress
    /// Bounds each request: connecting, sending, and the node's answer.
    public let timeout: Duration
    private let loop: UVEventLoop

    /// `url` is `http://HOST:PORT` (a trailing `/` is fine, the port defaults to 7480), HOST numeric
    /// IPv4, `[IPv6]`, or `localhost`.
    public convenience init(
        url: String = NodeClient.defaultURL, timeout: Duration = .seconds(30), logger: Logger = Logger(label: "understudy.client")
    ) throws(NodeClientError) {
        try self.init(address: try Self.address(fromURL: url), timeout: timeout, logger: logger)
    }

    public init(address: SocketAddress, timeout: Duration = .seconds(30), logger: Logger = Logger(label: "understudy.client"))
        throws(NodeClientError)
    {
        self.address = address
        self.timeout = timeout
        do { loop = try UVEventLoop(logger: logger) } catch { throw .cannotConnect(address, error) }
    }

    public func close() {
        loop.shutdown()
    }

    /// Sends one request and waits for the complete response, whatever its status.
    public func send(method: String, path: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [])
        throws(NodeClientError) -> ClientResponse
    {
        let request = serialize(method: method, path: path, headers: headers, body: body)
        let outcome = Locked<Result<ClientResponse, NodeClientError>?>(nil)
        loop.execute { [loop, address, timeout] in
            ClientExchange(loop: loop, address: address, request: request) { result in
                outcome.withLockNotifying { $0 = result }
            }.start(timeout: timeout)
        }
        // The exchange's own timer answers first; the margin only covers a loop that stopped running.
        guard outcome.wait(timeout: timeout + .seconds(5), until: { $0 != nil }) else { throw .timedOut(address, timeout) }
        return try outcome.withLock { $0! }.get()
    }

    private func serialize(method: String, path: String, headers: HTTPHeaders, body: [UInt8]) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(address)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        for field in headers {
            precondition(!(field.name + field.value).contains { $0 == "\r" || $0 == "\n" }, "CR/LF in request header \(field.name)")
            head += "\(field.name): \(field.value)\r\n"
        }
        return Array((head + "\r\n").utf8) + body
    }

    static func address(fromURL url: String) throws(NodeClientError) -> SocketAddress {
        var rest = Substring(url)
        if rest.hasPrefix("https://") { throw .invalidURL(url, reason: "TLS is not supported yet; use http://") }
        if rest.hasPrefix("http://") { rest = rest.dropFirst("http://".count) }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let address = SocketAddress(parsing: rest, defaultPort: NodeConfiguration.defaultHTTPPort), address.port != 0 else {
            throw .invalidURL(url, reason: "expected http://HOST:PORT with a numeric IPv4 or [IPv6] HOST (or localhost) and a port from 1 to 65535")
        }
        return address
    }
}
