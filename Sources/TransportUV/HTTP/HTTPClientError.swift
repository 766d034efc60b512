import Transport

/// Why `HTTPClient` has no response: each case names the peer and what went wrong.
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotConnect(SocketAddress, TransportError)
    /// No complete response within the request's timeout (connecting and sending included).
    case timedOut(SocketAddress, Duration)
    /// The connection ended before the first byte of a response. `requestSent` false: no byte of the
    /// request left this side; true: the server may have received the request and acted on it.
    case closedBeforeResponse(SocketAddress, reason: String, requestSent: Bool)
    /// The connection ended after part of a response.
    case closedMidResponse(SocketAddress, reason: String)
    /// The bytes are not an HTTP/1.1 response (a bad status line, bad framing, bytes nobody asked for).
    case malformedResponse(SocketAddress, detail: String)
    case headersTooLarge(SocketAddress, limit: Int)
    case bodyTooLarge(SocketAddress, limit: Int)

    public var peer: SocketAddress {
        switch self {
        case .cannotConnect(let peer, _), .timedOut(let peer, _), .closedBeforeResponse(let peer, _, _),
             .closedMidResponse(let peer, _), .malformedResponse(let peer, _), .headersTooLarge(let peer, _),
             .bodyTooLarge(let peer, _):
            peer
        }
    }

    public var description: String {
        switch self {
        case .cannotConnect(let peer, let error):
            "cannot connect to \(peer): \(error.message)"
        case .timedOut(let peer, let timeout):
            "no complete response from \(peer) within \(timeout)"
        case .closedBeforeResponse(let peer, let reason, let requestSent):
            "the connection to \(peer) ended before a response (\(reason))"
                + (requestSent ? "; the request was sent, so it may or may not have taken effect" : "; the request was not sent")
        case .closedMidResponse(let peer, let reason):
            "the connection to \(peer) ended in the middle of a response (\(reason))"
        case .malformedResponse(let peer, let detail):
            "malformed response from \(peer): \(detail)"
        case .headersTooLarge(let peer, let limit):
            "the response from \(peer) has a status line and headers over \(limit) bytes"
        case .bodyTooLarge(let peer, let limit):
            "the response from \(peer) has a body over \(limit) bytes"
        }
    }
}
