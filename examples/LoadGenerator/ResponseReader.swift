/// Reads responses off a keep-alive connection, one after another: status line, headers, and a
/// `Content-Length` body (nodes frame every body that way). Minimal on purpose: the Node module's own
/// `ResponseParser` is internal and re-parses its whole buffer, which suits one response per
/// connection, not tens of thousands per second on one.
struct ResponseReader {
    struct Response {
        var status: Int
        var body: [UInt8]
    }

    enum Outcome {
        case needMoreBytes
        case response(Response)
        case malformed(String)
    }

    /// A node's answers are small; this much without the end of the headers is not a node.
    static let maxHeaderBytes = 64 << 10
    private static let headEnd: [UInt8] = Array("\r\n\r\n".utf8)

    private var buffer: [UInt8] = []

    mutating func append(_ bytes: [UInt8]) {
        buffer += bytes
    }

    /// The next complete response, removed from the buffer.
    mutating func next() -> Outcome {
        guard let end = buffer.firstRange(of: Self.headEnd) else {
            return buffer.count > Self.maxHeaderBytes ? .malformed("no end of headers within \(Self.maxHeaderBytes) bytes") : .needMoreBytes
        }
        let lines = String(decoding: buffer[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1."),
            let status = Int(statusLine.dropFirst("HTTP/1.x ".count).prefix(3))
        else { return .malformed("bad status line '\(lines.first ?? "")'") }
        guard let length = Self.contentLength(lines.dropFirst()) else { return .malformed("no valid Content-Length") }
        guard buffer.count - end.upperBound >= length else { return .needMoreBytes }
        let body = Array(buffer[end.upperBound..<(end.upperBound + length)])
        buffer.removeFirst(end.upperBound + length)
        return .response(Response(status: status, body: body))
    }

    private static func contentLength(_ headerLines: ArraySlice<Substring>) -> Int? {
        for line in headerLines {
            guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == "content-length" else { continue }
            return Int(line[line.index(after: colon)...].trimmingPrefix(" ")).flatMap { $0 >= 0 ? $0 : nil }
        }
        return nil
    }
}
