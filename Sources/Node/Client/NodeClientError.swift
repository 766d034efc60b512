import Transport
import TransportUV

/// Why a request to a node failed, worded for the operator at the command line.
public enum NodeClientError: Error, Sendable, CustomStringConvertible {
    case invalidURL(String, reason: String)
    /// A TLS file given to the client cannot be used.
    case tls(TLSError)
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
        case .tls(let error):
            error.description
        case .http(.cannotConnect(let address, let error)) where error.operation == .tls:
            "TLS with \(address) failed: \(error.message) — check --tls-ca (the CA that signed the node's certificate) and, "
                + "if the node asks for one, --tls-cert and --tls-key"
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
