import TransportUV

/// A complete HTTP response as the client received it.
public struct ClientResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Reads one response from the front of the received bytes. Understudy nodes always frame bodies with
/// `Content-Length`, so that is all this accepts.
enum ResponseParser {
    /// Beyond this without the end of the headers, the peer is not a well-behaved node.
    static let maxHeaderBytes = 64 << 10

    enum Outcome {
        case needMoreBytes
        case complete(ClientResponse)
        case malformed(String)
    }

    static func parse(_ bytes: [UInt8]) -> Outcome {
        guard let headEnd = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else {
            return bytes.count > maxHeaderBytes ? .malformed("no end of headers within \(maxHeaderBytes) bytes") : .needMoreBytes
        }
        let lines = String(decoding: bytes[..<headEnd.lowerBound], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines[0].split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            return .malformed("bad status line '\(lines[0])'")
        }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { return .malformed("bad header line '\(line)'") }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingPrefix(" ").description)
        }
        guard let length = headers["Content-Length"].flatMap({ Int($0) }), length >= 0 else {
            return .malformed("no valid Content-Length")
        }
        guard bytes.count - headEnd.upperBound >= length else { return .needMoreBytes }
        return .complete(ClientResponse(status: status, headers: headers, body: Array(bytes[headEnd.upperBound..<(headEnd.upperBound + length)])))
    }
}
