import Foundation
import Logging
import Testing
import Transport
@testable import TransportUV

@Suite struct HTTPClientTests {
    // MARK: - Parsing responses

    @Test func responseSplitAtEveryByteBoundaryParsesTheSame() throws {
        let stream = Array((chunkedResponse + "HTTP/1.1 204 No Content\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Test: yes\r\n\r\nhello").utf8)
        let whole = parseAll([stream])
        #expect(whole.map(\.status) == [200, 204, 200])
        #expect(whole.map(\.text) == ["Wikipedia in\r\n\r\nchunks.", "", "hello"])
        #expect(whole.last?.headers["x-test"] == "yes")
        for split in 1..<stream.count {
            let parts = [Array(stream[..<split]), Array(stream[split...])]
            #expect(parseAll(parts).map(\.text) == whole.map(\.text), "split at byte \(split)")
            #expect(parseAll(parts).map(\.headers) == whole.map(\.headers), "split at byte \(split)")
        }
    }

    @Test func responseToHeadHasNoBodyWhateverItsLengthSays() {
        let parser = HTTPMessageParser(.response, maxHeaderBytes: 1024, maxBodyBytes: 1024)
        parser.nextResponseHasNoBody = true
        var input = Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n".utf8)
        guard case .message(let message) = parser.parse(&input) else { Issue.record("no message"); return }
        #expect(message.body.isEmpty)
        #expect(message.keepAlive)
    }

    @Test func bodyWithoutLengthEndsWithTheStream() {
        let parser = HTTPMessageParser(.response, maxHeaderBytes: 1024, maxBodyBytes: 1024)
        var input = Array("HTTP/1.1 200 OK\r\n\r\nuntil the end".utf8)
        guard case .needMoreInput = parser.parse(&input) else { Issue.record("complete before the end"); return }
        guard case .message(let message) = parser.parseEndOfInput() else { Issue.record("no message at the end"); return }
        #expect(message.text == "until the end")
        #expect(!message.keepAlive)
    }

    // MARK: - Against the project's server

    @Test func keepAliveReusesOneConnection() throws {
        let loop = try makeLoop()
        let peers = Locked<Set<Int>>([])
        let port = try startHTTPServer(on: loop) { request, responder in
            peers.withLock { _ = $0.insert(request.peerAddress.port) }
            describingHandler(request, responder)
        }
        let client = try makeClient(port: port)
        for number in 1...5 {
            let response = try client.send(HTTPClientRequest(method: "PUT", target: "/r\(number)", body: Array("\(number)".utf8)))
            #expect(response.text == "PUT /r\(number) - - \(number)")
        }
        #expect(peers.withLock { $0.count } == 1, "five requests, one connection")
        client.close()
        shutdownCleanly(loop)
    }

    @Test func concurrentRequestsEachGetTheirOwnConnection() throws {
        let loop = try makeLoop()
        let parked = Locked<[HTTPResponder]>([])
        let port = try startHTTPServer(on: loop) { _, responder in parked.withLockNotifying { $0.append(responder) } }
        let client = try makeClient(port: port)
        let answers = Locked<[String]>([])
        let threads = (0..<2).map { _ in
            Thread {
                let answer = Result { () throws(HTTPClientError) in try client.send(HTTPClientRequest(method: "GET", target: "/")).status }
                answers.withLockNotifying { $0.append("\(answer)") }
            }
        }
        for thread in threads { thread.start() }
        #expect(parked.wait(timeout: deadline) { $0.count == 2 }, "both requests reached the server at once")
        for responder in parked.withLock({ $0 }) { responder.respond(HTTPResponse(status: 200)) }
        #expect(answers.wait(timeout: deadline) { $0.count == 2 })
        #expect(answers.withLock { $0 } == ["success(200)", "success(200)"])
        client.close()
        shutdownCleanly(loop)
    }

    // MARK: - Against a raw responder

    @Test func chunkedBodyAndInterimResponse() throws {
        let loop = try makeLoop()
        let responder = try RawResponder(loop: loop) { _, _ in
            .send("HTTP/1.1 100 Continue\r\n\r\n" + chunkedResponse)
        }
        let client = try makeClient(port: responder.port)
        let response = try client.send(HTTPClientRequest(method: "GET", target: "/"))
        #expect(response.status == 200)
        #expect(response.text == "Wikipedia in\r\n\r\nchunks.")
        client.close()
        shutdownCleanly(loop)
    }

    @Test func bodyEndingAtCloseIsComplete() throws {
        let loop = try makeLoop()
        let responder = try RawResponder(loop: loop) { _, _ in .sendAndClose("HTTP/1.1 200 OK\r\n\r\nuntil close") }
        let client = try makeClient(port: responder.port)
        #expect(try client.send(HTTPClientRequest(method: "GET", target: "/")).text == "until close")
        client.close()
        shutdownCleanly(loop)
    }

    @Test func malformedResponsesAreTypedErrorsNamingThePeer() throws {
        let loop = try makeLoop()
        let responder = try RawResponder(loop: loop) { connection, _ in
            switch connection {
            case 1: .send("HTTP/1.1 OK 200\r\nContent-Length: 0\r\n\r\n")
            case 2: .send("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n")
            case 3: .sendAndClose("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            default: .send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA")
            }
        }
        var configuration = HTTPClientConfiguration()
        configuration.maxBodyBytes = 1000
        let client = try makeClient(port: responder.port, configuration: configuration)
        let peer = SocketAddress(host: "127.0.0.1", port: responder.port)
        let get = HTTPClientRequest(method: "GET", target: "/")

        let badStatus = try #require(throws: HTTPClientError.self) { try client.send(get) }
        guard case .malformedResponse(peer, let detail) = badStatus else { Issue.record("\(badStatus)"); return }
        #expect(detail.hasPrefix("HPE_INVALID_STATUS"), "\(detail)")
        #expect(detail.hasSuffix(#"the response began "HTTP/1.1 OK 200\r\nContent-Length: 0\r\n\r\n""#), "\(detail)")
        #expect(badStatus.description.contains("from \(peer)"))
        #expect(throws: HTTPClientError.bodyTooLarge(peer, limit: 1000)) { try client.send(get) }
        let cut = try #require(throws: HTTPClientError.self) { try client.send(get) }
        guard case .closedMidResponse(peer, _) = cut else { Issue.record("\(cut)"); return }
        // Bytes beyond the response are not trusted: the answer stands, the connection does not.
        #expect(try client.send(get).text == "ok")
        #expect(client.reusableConnectionCount == 0)
        #expect(responder.connectionsAccepted == 4)
        client.close()
        shutdownCleanly(loop)
    }

    @Test func requestTimesOutWhenNoAnswerComes() throws {
        let loop = try makeLoop()
        let responder = try RawResponder(loop: loop) { _, _ in .silence }
        let client = try makeClient(port: responder.port, configuration: HTTPClientConfiguration(timeout: .milliseconds(100)))
        #expect(throws: HTTPClientError.timedOut(SocketAddress(host: "127.0.0.1", port: responder.port), .milliseconds(100))) {
            try client.send(HTTPClientRequest(method: "GET", target: "/"))
        }
        client.close()
        shutdownCleanly(loop)
    }

    // MARK: - A server closing kept-alive connections

    @Test func getIsRetriedWhenAKeptAliveConnectionClosesUnanswered() throws {
        let loop = try makeLoop()
        let responder = try RawResponder(loop: loop) { _, request in request == 1 ? .send(okResponse) : .close }
        let client = try makeClient(port: responder.port)
        #expect(try client.send(HTTPClientRequest(method: "GET", target: "/1")).text == "ok")
        #expect(try client.send(HTTPClientRequest(method: "GET", target: "/2")).text == "ok")
        #expect(responder.connectionsAccepted == 2, "the second GET went again on a new connection")
        client.close()
        shutdownCleanly(loop)
    }

    @Test func postIsNeverSentTwiceWhenTheServerMayHaveReceivedIt() throws {
        let loop = try makeLoop()
        let responder = try RawResponder(loop: loop) { _, request in request == 1 ? .send(okResponse) : .close }
        let client = try makeClient(port: responder.port)
        let post = HTTPClientRequest(method: "POST", target: "/commit", body: Array("{}".utf8))
        #expect(try client.send(post).text == "ok")
        let error = try #require(throws: HTTPClientError.self) { try client.send(post) }
        guard case .closedBeforeResponse(_, _, requestSent: true) = error else { Issue.record("\(error)"); return }
        #expect(error.description.contains("may or may not have taken effect"))
        #expect(responder.connectionsAccepted == 1, "the POST was not sent again")
        #expect(responder.requestsReceived == 2)
        client.close()
        shutdownCleanly(loop)
    }

    @Test func connectionSeenClosedBetweenRequestsIsReplacedBeforeSending() throws {
        let loop = try makeLoop()
        let responder = try RawResponder(loop: loop) { _, _ in .sendAndClose(okResponse) }
        let client = try makeClient(port: responder.port)
        let post = HTTPClientRequest(method: "POST", target: "/commit", body: Array("{}".utf8))
        #expect(try client.send(post).text == "ok")
        #expect(waitUntil { client.reusableConnectionCount == 0 }, "the client saw the server close")
        #expect(try client.send(post).text == "ok")
        #expect(responder.connectionsAccepted == 2)
        #expect(responder.requestsReceived == 2, "each POST sent once")
        client.close()
        shutdownCleanly(loop)
    }
}

// MARK: - Support

private let chunkedResponse = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    + "4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n"
private let okResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

private func parseAll(_ parts: [[UInt8]]) -> [HTTPResponse] {
    let parser = HTTPMessageParser(.response, maxHeaderBytes: 1024, maxBodyBytes: 1024)
    var responses: [HTTPResponse] = []
    for part in parts {
        var input = part
        while case .message(let message) = parser.parse(&input) { responses.append(message.response) }
        #expect(input.isEmpty)
    }
    return responses
}

extension HTTPMessageParser.Message {
    fileprivate var text: String { String(decoding: body, as: UTF8.self) }
}

private func makeClient(port: Int, configuration: HTTPClientConfiguration = HTTPClientConfiguration()) throws -> HTTPClient {
    var logger = Logger(label: "understudy.http-client.test")
    logger.logLevel = .warning
    return try HTTPClient(peer: SocketAddress(host: "127.0.0.1", port: port), configuration: configuration, logger: logger)
}

/// Re-checks `condition` (each check is a round trip to a loop thread) until it holds or the deadline.
private func waitUntil(_ condition: () -> Bool) -> Bool {
    let end = ContinuousClock.now + deadline
    while ContinuousClock.now < end {
        if condition() { return true }
    }
    return false
}

/// A TCP server for what `HTTPServer` never does: each request (counted by the blank line ending its
/// head; test bodies hold none) gets the reply the script names for its connection and request
/// number, both from 1.
private final class RawResponder: Sendable {
    enum Reply {
        case send(String)
        case sendAndClose(String)
        case close
        case silence
    }

    let port: Int
    private let counts = Locked((connections: 0, requests: 0))

    var connectionsAccepted: Int { counts.withLock { $0.connections } }
    var requestsReceived: Int { counts.withLock { $0.requests } }

    init(loop: UVEventLoop, script: @escaping @Sendable (_ connection: Int, _ request: Int) -> Reply) throws {
        let counts = counts
        let listening = loop.executeAndWait { () -> Result<Int, TransportError> in
            Result { () throws(TransportError) -> Int in
                try loop.listen(host: "127.0.0.1", port: 0) { connection in
                    let number = counts.withLock { $0.connections += 1; return $0.connections }
                    let state = LoopBound((buffer: [UInt8](), requests: 0))
                    connection.start(ConnectionCallbacks(onRead: { bytes in
                        state.value.buffer += bytes
                        while let end = state.value.buffer.firstRange(of: Array("\r\n\r\n".utf8)) {
                            state.value.buffer.removeSubrange(..<end.upperBound)
                            state.value.requests += 1
                            counts.withLock { $0.requests += 1 }
                            switch script(number, state.value.requests) {
                            case .send(let text): _ = connection.write(Array(text.utf8))
                            case .sendAndClose(let text):
                                _ = connection.write(Array(text.utf8))
                                connection.close(.local("scripted"), mode: .afterFlush)
                            case .close: connection.close(.local("scripted"))
                            case .silence: break
                            }
                        }
                    }))
                }.address.port
            }
        }
        port = try #require(listening).get()
    }
}
