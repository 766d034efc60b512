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

/// Every complete response at the front of `bytes`, read by the client's own parser.
func parseResponses(_ bytes: [UInt8]) -> [ParsedResponse] {
    let parser = HTTPMessageParser(.response, maxHeaderBytes: 80 << 10, maxBodyBytes: 64 << 20)
    var input = bytes
    var responses: [ParsedResponse] = []
    while case .message(let message) = parser.parse(&input) {
        let headers = Dictionary(message.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        responses.append(ParsedResponse(status: message.status, headers: headers, body: message.body))
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
