import Logging
import Transport
import TransportUV

/// A blocking client for a node's API, on `HTTPClient`: its own loop thread, keep-alive connections
/// reused for successive requests. Call `close()` when done: it stops the loop thread.
public final class NodeClient: Sendable {
    public static let defaultURL = "http://127.0.0.1:7480"

    public let address: SocketAddress
    /// Bounds each request: connecting, sending, and the node's answer.
    public let timeout: Duration
    private let http: HTTPClient

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
        do {
            http = try HTTPClient(peer: address, configuration: HTTPClientConfiguration(timeout: timeout), logger: logger)
        } catch {
            throw .http(.cannotConnect(address, error))
        }
    }

    public func close() {
        http.close()
    }

    /// Sends one request and waits for the complete response, whatever its status.
    public func send(method: String, path: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [])
        throws(NodeClientError) -> HTTPResponse
    {
        do {
            return try http.send(HTTPClientRequest(method: method, target: path, headers: headers, body: body))
        } catch {
            throw .http(error)
        }
    }

    static func address(fromURL url: String) throws(NodeClientError) -> SocketAddress {
        switch SocketAddress.parsing(url: url, defaultPort: NodeConfiguration.defaultHTTPPort) {
        case .success(let address): address
        case .failure(let problem): throw .invalidURL(url, reason: problem.reason)
        }
    }
}
