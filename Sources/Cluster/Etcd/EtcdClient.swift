import Foundation
import Logging
import Node
import Transport
import TransportUV

/// A blocking client of etcd's v3 API through its JSON gateway (`POST /v3/...`), on the project's
/// HTTP client: one `HTTPClient` per endpoint. A request goes to the endpoint that last answered; when
/// it cannot answer (no connection, a timeout, or etcd's "unavailable": a member without quorum) the
/// next is tried, until each was. docs/DECISIONS.md says why the gateway and why polling, not watch.
///
/// Call `close()` when done: it stops each endpoint's loop thread.
public final class EtcdClient: Sendable {
    /// etcd's client port when a URL names none.
    public static let defaultPort = 2379

    public let endpoints: [SocketAddress]
    /// Bounds each request to one endpoint; a request that fails over may take this once per endpoint.
    public let timeout: Duration
    private let clients: [HTTPClient]
    /// The endpoint that answered last, tried first.
    private let preferred = Locked(0)

    /// `urls`: `http://HOST:PORT`, at least one.
    public init(urls: [String], timeout: Duration = .seconds(2), logger: Logger) throws(EtcdClientSetupError) {
        var endpoints: [SocketAddress] = []
        for url in urls {
            switch SocketAddress.parsing(url: url, defaultPort: Self.defaultPort) {
            case .success(let parsed) where parsed.secure:
                throw .invalidURL(url, reason: "etcd over TLS is not supported; use its http:// client URL on a trusted network")
            case .success(let parsed): endpoints.append(parsed.address)
            case .failure(let problem): throw .invalidURL(url, reason: problem.reason)
            }
        }
        guard !endpoints.isEmpty else { throw .noEndpoint }
        self.endpoints = endpoints
        self.timeout = timeout
        var clients: [HTTPClient] = []
        for endpoint in endpoints {
            do {
                clients.append(try HTTPClient(peer: endpoint, configuration: HTTPClientConfiguration(timeout: timeout), logger: logger))
            } catch {
                for client in clients { client.close() }
                throw .cannotStart(endpoint, error)
            }
        }
        self.clients = clients
    }

    /// `--etcd URL[,URL…]` as given on a command line.
    public convenience init(commaSeparated urls: String, timeout: Duration = .seconds(2), logger: Logger) throws(EtcdClientSetupError) {
        try self.init(urls: urls.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }, timeout: timeout, logger: logger)
    }

    public func close() {
        for client in clients { client.close() }
    }

    /// An answer and the endpoint that gave it.
    struct Answer<Response> {
        var response: Response
        var endpoint: SocketAddress
    }

    /// Posts `request` to `path` and decodes the answer, failing over across endpoints.
    func call<Request: Encodable, Response: Decodable>(_ path: String, _ request: Request, as _: Response.Type)
        throws(EtcdError) -> Answer<Response>
    {
        let body: [UInt8]
        do { body = Array(try JSONEncoder().encode(request)) } catch {
            preconditionFailure("an etcd request always encodes: \(error)")
        }
        let first = preferred.withLock { $0 }
        var failures: [EtcdError.EndpointFailure] = []
        for step in 0..<clients.count {
            let index = (first + step) % clients.count
            switch exchange(clients[index], path: path, body: body) {
            case .answered(let response):
                preferred.withLock { $0 = index }
                return Answer(response: try decode(response, from: clients[index].peer, as: Response.self), endpoint: clients[index].peer)
            case .refused(let error):
                throw error
            case .unavailable(let reason):
                failures.append(EtcdError.EndpointFailure(endpoint: clients[index].peer, reason: reason))
            }
        }
        throw .unavailable(failures)
    }

    private enum Outcome {
        case answered(HTTPResponse)
        case refused(EtcdError)
        case unavailable(String)
    }

    private func exchange(_ client: HTTPClient, path: String, body: [UInt8]) -> Outcome {
        let response: HTTPResponse
        do {
            response = try client.send(HTTPClientRequest(
                method: "POST", target: path, headers: ["Content-Type": "application/json"], body: body))
        } catch {
            return .unavailable(error.description)
        }
        if response.status == 200 { return .answered(response) }
        let answer = try? JSONDecoder().decode(EtcdGatewayJSON.ErrorBody.self, from: Data(response.body))
        let message = answer?.message ?? answer?.error ?? response.text
        let code = answer?.code ?? -1
        // UNAVAILABLE (14) and DEADLINE_EXCEEDED (4): this member cannot serve now, another may.
        if code == 14 || code == 4 || response.status == 503 { return .unavailable("\(message) (HTTP \(response.status))") }
        return .refused(.refused(client.peer, status: response.status, code: code, message: message))
    }

    private func decode<Response: Decodable>(_ response: HTTPResponse, from endpoint: SocketAddress, as _: Response.Type)
        throws(EtcdError) -> Response
    {
        do { return try JSONDecoder().decode(Response.self, from: Data(response.body)) } catch {
            throw .malformedResponse(endpoint, detail: "\(error) in '\(response.text.prefix(200))'")
        }
    }
}

/// Why an `EtcdClient` cannot be made.
public enum EtcdClientSetupError: Error, Sendable, CustomStringConvertible {
    case invalidURL(String, reason: String)
    case noEndpoint
    case cannotStart(SocketAddress, TransportError)

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason): "invalid etcd URL '\(url)': \(reason)"
        case .noEndpoint: "no etcd endpoint given: --etcd http://HOST:2379[,http://HOST:2379…]"
        case .cannotStart(let endpoint, let error): "cannot start the HTTP client for etcd at \(endpoint): \(error.message)"
        }
    }
}
