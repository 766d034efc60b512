/// Every failure of the transport layer, with the context an operator needs to act on it.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Operation: String, Sendable {
        case configure, resolve, bind, listen, accept, connect, read, write, close
        /// The TLS handshake, or a TLS record that failed later (an alert from the peer).
        case tls
    }

    public var operation: Operation
    /// The errno name, as libuv's `uv_err_name` spells it (`ECONNRESET`, `EADDRINUSE`), or `EINVAL` for
    /// bad configuration.
    public var code: String
    public var message: String
    /// The local address for bind/listen, the peer otherwise, when known.
    public var address: SocketAddress?

    public init(operation: Operation, code: String, message: String, address: SocketAddress? = nil) {
        self.operation = operation
        self.code = code
        self.message = message
        self.address = address
    }

    /// The peer aborted the connection.
    public var isConnectionReset: Bool { code == "ECONNRESET" || code == "EPIPE" }

    public var description: String {
        let place = address.map { " \($0)" } ?? ""
        return "\(operation.rawValue)\(place): \(code) (\(message))"
    }
}
