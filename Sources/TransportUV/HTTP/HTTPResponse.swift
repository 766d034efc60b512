/// A response: one the server sends (it adds `Content-Length` and, when it will close,
/// `Connection: close`), or one `HTTPClient` received.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// A JSON body, already encoded.
    public static func json(status: Int, _ json: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: Array(json.utf8))
    }

    /// The error shape every endpoint uses: `{"error": "...", "detail": "..."}`.
    public static func error(status: Int, error: String, detail: String) -> HTTPResponse {
        json(status: status, "{\"error\":\(jsonString(error)),\"detail\":\(jsonString(detail))}")
    }

    /// 503 with `Retry-After: 1`: the node is at one of its limits (connections, buffered bodies);
    /// a client may try again shortly.
    public static func overloaded(_ detail: String) -> HTTPResponse {
        var response = error(status: 503, error: "overloaded", detail: detail)
        response.headers.add(name: "Retry-After", value: "1")
        return response
    }

    /// The bytes on the wire.
    func serialized(closing: Bool) -> [UInt8] {
        var wire: [UInt8] = []
        wire.reserveCapacity(128 + body.count)
        wire += "HTTP/1.1 ".utf8
        wire += String(status).utf8
        wire += " ".utf8
        wire += Self.reasonPhrase(status).utf8
        wire += "\r\n".utf8
        headers.appendWireLines(to: &wire, excluding: ["content-length", "connection"])
        wire += "Content-Length: ".utf8
        wire += String(body.count).utf8
        wire += closing ? "\r\nConnection: close\r\n\r\n".utf8 : "\r\n\r\n".utf8
        wire += body
        return wire
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status \(status)"
        }
    }
}

/// `text` as a JSON string literal, quotes included.
func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
