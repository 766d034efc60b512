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

    /// `url` is `http://HOST:PORT` or `https://HOST:PORT` (a trailing `/` is fine, the port defaults
    /// to 7480), HOST numeric IPv4, `[IPv6]`, or `localhost`. `https://` needs `tls` with the CA that
    /// signed the node's certificate (and a certificate of this client's, when the node asks for one).
    public convenience init(
        url: String = NodeClient.defaultURL, timeout: Duration = .seconds(30), tls: TLSConfiguration? = nil,
        logger: Logger = Logger(label: "understudy.client")
    ) throws(NodeClientError) {
        let (address, secure) = try Self.address(fromURL: url)
        try self.init(address: address, timeout: timeout, tls: try Self.tlsContext(url: url, secure: secure, tls), logger: logger)
    }

    private static func tlsContext(url: String, secure: Bool, _ tls: TLSConfiguration?) throws(NodeClientError) -> TLSContext? {
        guard secure else {
            if tls != nil { throw .invalidURL(url, reason: "the TLS flags are for an https:// node URL") }
            return nil
        }
        guard let tls, tls.caFile != nil else {
            throw .invalidURL(url, reason: "https:// needs --tls-ca FILE, the CA that signed the node's certificate")
        }
        do { return try TLSContext(tls) } catch { throw .tls(error) }
    }

    /// With `tls`, over TLS (`https://`).
    public init(
        address: SocketAddress, timeout: Duration = .seconds(30), tls: TLSContext? = nil, logger: Logger = Logger(label: "understudy.client")
    ) throws(NodeClientError) {
        self.address = address
        self.timeout = timeout
        do {
            http = try HTTPClient(peer: address, configuration: HTTPClientConfiguration(timeout: timeout), tls: tls, logger: logger)
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

    /// The node's address, and whether the URL is `https://`.
    static func address(fromURL url: String) throws(NodeClientError) -> (SocketAddress, secure: Bool) {
        switch SocketAddress.parsing(url: url, defaultPort: NodeConfiguration.defaultHTTPPort) {
        case .success(let parsed): parsed
        case .failure(let problem): throw .invalidURL(url, reason: problem.reason)
        }
    }
}
