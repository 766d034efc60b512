import Transport
import TransportUV

/// Why an etcd request failed, naming the endpoint and, when etcd answered, its own error.
public enum EtcdError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No endpoint gave an answer that counts: each one tried, with why (in the order tried). An
    /// endpoint that answered "unavailable" (a member without quorum or leader) is among them.
    case unavailable([EndpointFailure])
    /// An endpoint answered with an error that another endpoint would answer too (a lease not found,
    /// a malformed request): its HTTP status, gRPC code and message.
    case refused(SocketAddress, status: Int, code: Int, message: String)
    /// The answer is not what etcd's JSON gateway sends.
    case malformedResponse(SocketAddress, detail: String)
    /// A keepalive found the lease gone: it expired or was revoked. Whatever it held is deleted.
    case leaseNotFound(SocketAddress, lease: Int64)

    /// One endpoint's failure within `unavailable`.
    public struct EndpointFailure: Sendable, Equatable, CustomStringConvertible {
        public var endpoint: SocketAddress
        public var reason: String

        public var description: String { "\(endpoint): \(reason)" }
    }

    public var description: String {
        switch self {
        case .unavailable(let failures):
            "no etcd endpoint answered (\(failures.map(\.description).joined(separator: "; "))): check that a quorum of the etcd "
                + "cluster is up and reachable from this node (`etcdctl endpoint health --cluster`)"
        case .refused(let endpoint, let status, let code, let message):
            "etcd at \(endpoint) refused the request: \(message) (HTTP \(status), gRPC code \(code))"
        case .malformedResponse(let endpoint, let detail):
            "malformed answer from etcd at \(endpoint): \(detail)"
        case .leaseNotFound(let endpoint, let lease):
            "etcd at \(endpoint) no longer holds lease \(lease): it expired or was revoked"
        }
    }
}
