import Transport

/// A complete request, body included.
public struct HTTPRequest: Sendable {
    /// `GET`, `PUT`, ... as sent.
    public var method: String
    /// The request target up to `?`, not percent-decoded (keys may contain encoded `/`).
    public var path: String
    /// What follows `?`, not decoded; nil when there is no `?`.
    public var query: String?
    public var headers: HTTPHeaders
    public var body: [UInt8]
    public var peerAddress: SocketAddress

    public init(method: String, path: String, query: String? = nil, headers: HTTPHeaders = HTTPHeaders(),
                body: [UInt8] = [], peerAddress: SocketAddress) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.peerAddress = peerAddress
    }
}
