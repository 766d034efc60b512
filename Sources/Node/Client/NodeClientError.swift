import Transport

/// Why a request to a node failed, worded for the operator at the command line.
public enum NodeClientError: Error, Sendable, CustomStringConvertible {
    case invalidURL(String, reason: String)
    case cannotConnect(SocketAddress, TransportError)
    case timedOut(SocketAddress, Duration)
    /// The connection ended before a complete response arrived.
    case connectionLost(SocketAddress, reason: String)
    case malformedResponse(SocketAddress, detail: String)
    /// The node answered with an error: its status and `{"error", "detail"}` body.
    case refused(status: Int, error: String, detail: String)

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason):
            "invalid node URL '\(url)': \(reason)"
        case .cannotConnect(let address, let error):
            "cannot connect to \(address): \(error.message) — is the node running? start it with `understudy start --data DIR`"
        case .timedOut(let address, let timeout):
            "no complete response from \(address) within \(timeout)"
        case .connectionLost(let address, let reason):
            "the connection to \(address) ended before a complete response (\(reason))"
        case .malformedResponse(let address, let detail):
            "malformed response from \(address): \(detail)"
        case .refused(let status, let error, let detail):
            "\(detail) (HTTP \(status), \(error))"
        }
    }
}
