import Logging
import Testing
import Transport
import TransportUV

/// The HTTP server only needs the Transport contract, so its timeouts can be checked on fake time.
@Suite struct HTTPServerOnFakeTests {
    @Test func timeoutsFollowFakeTimeExactly() throws {
        let loop = FakeEventLoop()
        var configuration = HTTPServerConfiguration()
        configuration.idleTimeout = .seconds(60)
        configuration.requestTimeout = .seconds(5)
        let server = try HTTPServer(eventLoop: loop, configuration: configuration,
                                    logger: Logger(label: "test")) { _, responder in
            responder.respond(HTTPResponse(status: 204))
        }
        var client: (any Connection)?
        var received: [UInt8] = []
        var closed: CloseReason?
        loop.connect(host: "127.0.0.1", port: server.address.port) { client = try? $0.get() }
        loop.run()
        let connection = try #require(client)
        connection.start(ConnectionCallbacks(onRead: { received += $0 }, onClose: { closed = $0 }))

        _ = connection.write(Array("GET / HTTP/1.1\r\n\r\n".utf8))
        loop.run()
        #expect(parseResponses(received).map(\.status) == [204])
        loop.advanceTime(by: .seconds(59))
        #expect(closed == nil, "idle for 59 s of a 60 s timeout")

        _ = connection.write(Array("GET / HTTP/1.1\r\n".utf8))  // a request that never completes
        loop.advanceTime(by: .seconds(4))
        #expect(closed == nil, "the idle timer was replaced by the 5 s request deadline")
        loop.advanceTime(by: .seconds(1))
        #expect(parseResponses(received).map(\.status) == [204, 408])
        #expect(closed == .peerClosed)
    }

    /// The idle timer is armed once per idle period and moved lazily: each request must still restart
    /// the full idle window, and the connection must close when a whole window passes without one.
    @Test func eachRequestRestartsTheIdleWindow() throws {
        let loop = FakeEventLoop()
        var configuration = HTTPServerConfiguration()
        configuration.idleTimeout = .seconds(60)
        let server = try HTTPServer(eventLoop: loop, configuration: configuration,
                                    logger: Logger(label: "test")) { _, responder in
            responder.respond(HTTPResponse(status: 204))
        }
        var client: (any Connection)?
        var received: [UInt8] = []
        var closed: CloseReason?
        loop.connect(host: "127.0.0.1", port: server.address.port) { client = try? $0.get() }
        loop.run()
        let connection = try #require(client)
        connection.start(ConnectionCallbacks(onRead: { received += $0 }, onClose: { closed = $0 }))

        for request in 1...3 {
            loop.advanceTime(by: .seconds(59))
            #expect(closed == nil, "request \(request) comes 59 s into a 60 s idle window")
            _ = connection.write(Array("GET / HTTP/1.1\r\n\r\n".utf8))
            loop.run()
            #expect(parseResponses(received).count == request)
        }
        loop.advanceTime(by: .seconds(59))
        #expect(closed == nil, "59 s after the last answer")
        loop.advanceTime(by: .seconds(1))
        #expect(closed == .peerClosed, "60 s after the last answer")
    }
}
