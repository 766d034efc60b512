import Transport

/// A request for `HTTPClient` or `HTTPClientConnection`; the client adds `Host` and `Content-Length`.
public struct HTTPClientRequest: Sendable {
    /// `GET`, `PUT`, ... as sent.
    public var method: String
    /// The request target: path and query, already percent-encoded.
    public var target: String
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }

    /// Methods whose repetition changes nothing on an Understudy node, so a request the server may
    /// already have received can be sent again (docs/DECISIONS.md). Not PUT and DELETE: each is a
    /// commit of its own here, and a repeated conditional one answers 409 for the first one's success.
    var isSafeToRepeat: Bool { method == "GET" || method == "HEAD" }

    /// A response to HEAD has headers only, whatever they declare.
    var expectsNoResponseBody: Bool { method == "HEAD" }

    func serialized(host: String) -> [UInt8] {
        var wire: [UInt8] = []
        wire.reserveCapacity(128 + body.count)
        wire += method.utf8
        wire += " ".utf8
        wire += target.utf8
        wire += " HTTP/1.1\r\nHost: ".utf8
        wire += host.utf8
        wire += "\r\nContent-Length: ".utf8
        wire += String(body.count).utf8
        wire += "\r\n".utf8
        headers.appendWireLines(to: &wire, excluding: ["host", "content-length"])
        wire += "\r\n".utf8
        wire += body
        return wire
    }
}
