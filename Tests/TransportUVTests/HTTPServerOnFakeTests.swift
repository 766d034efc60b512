import Logging
import Testing
import Transport
import TransportUV

/// The HTTP server only needs the Transport contract, so its timeouts can be checked on fake time.
@Suite struct HTTPServerOnFakeTests {
    @Test func timeoutsFollowFakeTimeExactly() throws {
        let client = try FakeClient(idleTimeout: .seconds(60), requestTimeout: .seconds(5))
        client.send("GET / HTTP/1.1\r\n\r\n")
        #expect(parseResponses(client.received).map(\.status) == [204])
        client.loop.advanceTime(by: .seconds(59))
        #expect(client.closed == nil, "idle for 59 s of a 60 s timeout")

        client.send("GET / HTTP/1.1\r\n")  // a request that never completes
        client.loop.advanceTime(by: .seconds(4))
        #expect(client.closed == nil, "the idle timer was replaced by the 5 s request deadline")
        client.loop.advanceTime(by: .seconds(1))
        #expect(parseResponses(client.received).map(\.status) == [204, 408])
        #expect(client.closed == .peerClosed)
    }

    /// The idle timer is armed once per idle period and moved lazily: each request must still restart
    /// the full idle window, and the connection must close when a whole window passes without one.
    @Test func eachRequestRestartsTheIdleWindow() throws {
        let client = try FakeClient(idleTimeout: .seconds(60), requestTimeout: .seconds(5))
        for request in 1...3 {
            client.loop.advanceTime(by: .seconds(59))
            #expect(client.closed == nil, "request \(request) comes 59 s into a 60 s idle window")
            client.send("GET / HTTP/1.1\r\n\r\n")
            #expect(parseResponses(client.received).count == request)
        }
        client.loop.advanceTime(by: .seconds(59))
        #expect(client.closed == nil, "59 s after the last answer")
        client.loop.advanceTime(by: .seconds(1))
        #expect(client.closed == .peerClosed, "60 s after the last answer")
    }

    /// A request's answer may come from another thread within microseconds, and the client's next
    /// request soon after the answer: each asks the loop to poll rather than sleep, whether the
    /// handler answers at once or later.
    @Test func aRequestAndItsAnswerEachAskTheLoopToPoll() throws {
        let later = try FakeClient(idleTimeout: .seconds(60), requestTimeout: .seconds(5), answersLater: true)
        later.send("GET / HTTP/1.1\r\n\r\n")
        #expect(later.loop.pollRequests == 1, "the request was taken in")
        #expect(later.received.isEmpty)
        later.answerHeld()
        #expect(parseResponses(later.received).map(\.status) == [204])
        #expect(later.loop.pollRequests == 2, "the answer was sent")

        let atOnce = try FakeClient(idleTimeout: .seconds(60), requestTimeout: .seconds(5))
        atOnce.send("GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n")
        #expect(parseResponses(atOnce.received).map(\.status) == [204, 204])
        #expect(atOnce.loop.pollRequests == 4, "two requests and two answers")
    }
}

/// A server answering 204 to everything on a fake loop (at once, or when the test says), and one
/// client connection to it.
private final class FakeClient {
    let loop = FakeEventLoop()
    private let server: HTTPServer
    private var connection: (any Connection)?
    private(set) var received: [UInt8] = []
    private(set) var closed: CloseReason?
    /// Requests whose answer waits for `answerHeld()`.
    private let held = Locked<[HTTPResponder]>([])

    init(idleTimeout: Duration, requestTimeout: Duration, answersLater: Bool = false) throws {
        var configuration = HTTPServerConfiguration()
        configuration.idleTimeout = idleTimeout
        configuration.requestTimeout = requestTimeout
        server = try HTTPServer(eventLoop: loop, configuration: configuration, logger: Logger(label: "test")) { [held] _, responder in
            guard answersLater else { return responder.respond(HTTPResponse(status: 204)) }
            held.withLock { $0.append(responder) }
        }
        loop.connect(host: "127.0.0.1", port: server.address.port) { [self] in connection = try? $0.get() }
        loop.run()
        try #require(connection).start(ConnectionCallbacks(onRead: { [self] in received += $0 }, onClose: { [self] in closed = $0 }))
    }

    /// Answers the oldest held request and runs the loop.
    func answerHeld() {
        held.withLock { $0.removeFirst() }.respond(HTTPResponse(status: 204))
        loop.run()
    }

    /// Writes `text` and runs the loop until nothing more is ready.
    func send(_ text: String) {
        _ = connection?.write(Array(text.utf8))
        loop.run()
    }
}
