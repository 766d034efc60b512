import Transport
import TransportUV

/// Why a request to a node failed, worded for the operator at the command line.
public enum NodeClientError: Error, Sendable, CustomStringConvertible {
    case invalidURL(String, reason: String)
    /// No (complete, well-formed) HTTP response: no connection, a timeout, a connection cut short.
    case http(HTTPClientError)
    /// A response whose content is not what the API answers.
    case malformedResponse(SocketAddress, detail: String)
    /// The node answered with an error: its status and `{"error", "detail"}` body.
    case refused(status: Int, error: String, detail: String)

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason):
            "invalid node URL '\(url)': \(reason)"
        case .http(.cannotConnect(let address, let error)):
            "cannot connect to \(address): \(error.message) — is the node running? start it with `understudy start --data DIR`"
        case .http(let error):
            error.description
        case .malformedResponse(let address, let detail):
            "malformed response from \(address): \(detail)"
        case .refused(let status, let error, let detail):
            "\(detail) (HTTP \(status), \(error))"
        }
    }
}
