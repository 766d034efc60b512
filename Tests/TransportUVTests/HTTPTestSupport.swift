import Logging
import Testing
import Transport
@testable import TransportUV

/// A response as a test reads it back from raw bytes.
struct ParsedResponse {
    var status: Int
    /// Names lowercased.
    var headers: [String: String]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// Every complete response at the front of `bytes` (Content-Length framing, as the server always sends).
func parseResponses(_ bytes: [UInt8]) -> [ParsedResponse] {
    var responses: [ParsedResponse] = []
    var rest = bytes[...]
    while let headEnd = rest.firstRange(of: Array("\r\n\r\n".utf8)) {
        let lines = String(decoding: rest[..<headEnd.lowerBound], as: UTF8.self).split(separator: "\r\n")
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ")[1]) else { break }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            headers[parts[0].lowercased()] = parts.count > 1 ? parts[1].trimmingPrefix(" ").description : ""
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        guard rest[headEnd.upperBound...].count >= length else { break }
        let body = Array(rest[headEnd.upperBound..<(headEnd.upperBound + length)])
        responses.append(ParsedResponse(status: status, headers: headers, body: body))
        rest = rest[(headEnd.upperBound + length)...]
    }
    return responses
}

extension TestClient {
    /// Waits for `count` complete responses (or the connection's close) and returns those that arrived.
    func waitForResponses(_ count: Int) -> [ParsedResponse] {
        _ = log.wait(timeout: deadline) { parseResponses($0.received).count >= count || $0.closeReason != nil }
        return parseResponses(log.withLock { $0.received })
    }
}

/// Starts an `HTTPServer` on the loop and returns its port.
func startHTTPServer(
    on loop: UVEventLoop, configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
    handler: @escaping HTTPHandler
) throws -> Int {
    let port = loop.executeAndWait { () -> Result<Int, TransportError> in
        Result { () throws(TransportError) -> Int in
            try HTTPServer(eventLoop: loop, configuration: configuration, logger: loop.logger, handler: handler).address.port
        }
    }
    return try #require(port).get()
}

/// Answers `METHOD path query x-test body` so tests can see what the server parsed.
let describingHandler: HTTPHandler = { request, responder in
    let summary = [request.method, request.path, request.query ?? "-", request.headers["x-test"] ?? "-",
                   String(decoding: request.body, as: UTF8.self)].joined(separator: " ")
    responder.respond(HTTPResponse(status: 200, headers: ["Content-Type": "text/plain"], body: Array(summary.utf8)))
}

/// Polls a loop-confined condition from the test thread, one loop turn per check, until a deadline.
func waitOnLoop(_ loop: UVEventLoop, until condition: @escaping @Sendable () -> Bool) -> Bool {
    let clock = ContinuousClock()
    let end = clock.now + deadline
    while clock.now < end {
        if loop.executeAndWait(condition) == true { return true }
    }
    return false
}
