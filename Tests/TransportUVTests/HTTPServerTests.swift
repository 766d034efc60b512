import Testing
import Transport
@testable import TransportUV

@Suite struct HTTPServerTests {
    @Test func getAndPutWithBody() throws {
        let loop = try makeLoop()
        let client = try TestClient(loop: loop, port: try startHTTPServer(on: loop, handler: describingHandler))
        client.send("GET /objects/a?x=1&y=2 HTTP/1.1\r\nHost: test\r\nX-Test: yes\r\n\r\n")
        client.send("PUT /objects/b HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello")
        let responses = client.waitForResponses(2)
        #expect(responses.map(\.status) == [200, 200])
        #expect(responses.map(\.text) == ["GET /objects/a x=1&y=2 yes ", "PUT /objects/b - - hello"])
        #expect(responses.first?.headers["content-type"] == "text/plain")
        shutdownCleanly(loop)
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        let loop = try makeLoop()
        let client = try TestClient(loop: loop, port: try startHTTPServer(on: loop, handler: describingHandler))
        for number in 1...5 {
            client.send("GET /r\(number) HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(client.waitForResponses(number).last?.text == "GET /r\(number) - - ")
        }
        #expect(client.log.withLock { $0.closeReason } == nil)
        shutdownCleanly(loop)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let loop = try makeLoop()
        let client = try TestClient(loop: loop, port: try startHTTPServer(on: loop, handler: describingHandler))
        client.send((0..<20).map { "PUT /r\($0) HTTP/1.1\r\nContent-Length: 2\r\n\r\n\($0 % 10)!" }.joined())
        let responses = client.waitForResponses(20)
        #expect(responses.map(\.text) == (0..<20).map { "PUT /r\($0) - - \($0 % 10)!" })
        shutdownCleanly(loop)
    }

    @Test func connectionCloseIsHonoured() throws {
        let loop = try makeLoop()
        let client = try TestClient(loop: loop, port: try startHTTPServer(on: loop, handler: describingHandler))
        client.send("GET /last HTTP/1.1\r\nConnection: close\r\n\r\n")
        #expect(client.waitForResponses(1).first?.headers["connection"] == "close")
        #expect(client.waitForClose() == .peerClosed)
        shutdownCleanly(loop)
    }

    @Test func oversizedBodyGets413AsJSON() throws {
        var configuration = HTTPServerConfiguration()
        configuration.maxBodyBytes = 1000
        let loop = try makeLoop()
        let port = try startHTTPServer(on: loop, configuration: configuration, handler: describingHandler)
        let declared = try TestClient(loop: loop, port: port)
        declared.send("PUT /big HTTP/1.1\r\nContent-Length: 5000\r\n\r\n")
        let chunked = try TestClient(loop: loop, port: port)
        chunked.send("PUT /big HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" + String(repeating: "x", count: 2000))
        for client in [declared, chunked] {
            let response = client.waitForResponses(1).first
            #expect(response?.status == 413)
            #expect(response?.headers["content-type"] == "application/json")
            #expect(response?.text == #"{"error":"request body too large","detail":"body exceeds 1000 bytes"}"#)
            #expect(client.waitForClose() == .peerClosed)
        }
        shutdownCleanly(loop)
    }

    @Test func oversizedHeadersGet431() throws {
        var configuration = HTTPServerConfiguration()
        configuration.maxHeaderBytes = 1024
        let loop = try makeLoop()
        let client = try TestClient(loop: loop, port: try startHTTPServer(on: loop, configuration: configuration,
                                                                          handler: describingHandler))
        client.send("GET / HTTP/1.1\r\nX-Padding: \(String(repeating: "p", count: 2000))\r\n\r\n")
        #expect(client.waitForResponses(1).first?.status == 431)
        #expect(client.waitForClose() == .peerClosed)
        shutdownCleanly(loop)
    }

    @Test func malformedRequestGets400WithJSONAndClose() throws {
        let loop = try makeLoop()
        let client = try TestClient(loop: loop, port: try startHTTPServer(on: loop, handler: describingHandler))
        client.send("GET / HTTP/1.1\r\n\r\nBREW /pot HTCPCP/1.0\r\n\r\n")
        let responses = client.waitForResponses(2)
        #expect(responses.map(\.status) == [200, 400], "the good request before the bad one is still answered")
        #expect(responses.last?.text.hasPrefix(#"{"error":"malformed request","detail":"HPE_INVALID_METHOD"#) == true)
        #expect(client.waitForClose() == .peerClosed)
        shutdownCleanly(loop)
    }

    @Test func idleKeepAliveConnectionIsClosed() throws {
        var configuration = HTTPServerConfiguration()
        configuration.idleTimeout = .milliseconds(50)
        let loop = try makeLoop()
        let client = try TestClient(loop: loop, port: try startHTTPServer(on: loop, configuration: configuration,
                                                                          handler: describingHandler))
        client.send("GET / HTTP/1.1\r\n\r\n")
        #expect(client.waitForResponses(1).count == 1)
        #expect(client.waitForClose() == .peerClosed)
        shutdownCleanly(loop)
    }

    @Test func slowClientGets408() throws {
        var configuration = HTTPServerConfiguration()
        configuration.requestTimeout = .milliseconds(50)
        let loop = try makeLoop()
        let client = try TestClient(loop: loop, port: try startHTTPServer(on: loop, configuration: configuration,
                                                                          handler: describingHandler))
        client.send("PUT /slow HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
        let response = client.waitForResponses(1).first
        #expect(response?.status == 408)
        #expect(response?.text.contains(#""error":"request timeout""#) == true)
        #expect(client.waitForClose() == .peerClosed)
        shutdownCleanly(loop)
    }

    @Test func clientDisconnectingMidBodyHarmsNothing() throws {
        let loop = try makeLoop()
        let handled = Locked(0)
        let port = try startHTTPServer(on: loop) { request, responder in
            handled.withLock { $0 += 1 }
            describingHandler(request, responder)
        }
        let quitter = try TestClient(loop: loop, port: port)
        quitter.send("PUT /objects/k HTTP/1.1\r\nContent-Length: 100000\r\n\r\nonly the start")
        quitter.onLoop { $0.close(.local("gone")) }
        #expect(quitter.waitForClose() == .local("gone"))
        // Only the listener remains once the server has noticed and closed its side.
        #expect(waitOnLoop(loop) { loop.openResourceCount == 1 })

        let next = try TestClient(loop: loop, port: port)
        next.send("GET /after HTTP/1.1\r\n\r\n")
        #expect(next.waitForResponses(1).first?.text == "GET /after - - ")
        #expect(handled.withLock { $0 } == 1, "the cut-off request never reached the handler")
        shutdownCleanly(loop)
    }

    @Test func responseFromAnotherThreadLaterKeepsOrder() throws {
        let loop = try makeLoop()
        let parked = Locked<HTTPResponder?>(nil)
        let port = try startHTTPServer(on: loop) { request, responder in
            if request.path == "/commit" {
                parked.withLockNotifying { $0 = responder }  // answered later, by the test thread
            } else {
                describingHandler(request, responder)
            }
        }
        let client = try TestClient(loop: loop, port: port)
        client.send("POST /commit HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET /status HTTP/1.1\r\n\r\n")
        #expect(parked.wait(timeout: deadline) { $0 != nil })
        #expect(waitOnLoop(loop) { true })
        #expect(client.log.withLock { $0.received.isEmpty }, "nothing is answered before the commit")

        parked.withLock { $0 }?.respond(.json(status: 200, #"{"seqno":42}"#))
        let responses = client.waitForResponses(2)
        #expect(responses.map(\.text) == [#"{"seqno":42}"#, "GET /status - - "])
        shutdownCleanly(loop)
    }

    @Test func responseAfterTheClientLeftIsDropped() throws {
        let loop = try makeLoop()
        let parked = Locked<HTTPResponder?>(nil)
        let port = try startHTTPServer(on: loop) { _, responder in parked.withLockNotifying { $0 = responder } }
        let client = try TestClient(loop: loop, port: port)
        client.send("GET / HTTP/1.1\r\n\r\n")
        #expect(parked.wait(timeout: deadline) { $0 != nil })
        client.onLoop { $0.close(.local("impatient")) }
        #expect(waitOnLoop(loop) { loop.openResourceCount == 1 })
        parked.withLock { $0 }?.respond(HTTPResponse(status: 200))
        #expect(waitOnLoop(loop) { true })
        shutdownCleanly(loop)
    }

    @Test func configurationIsValidated() {
        var configuration = HTTPServerConfiguration()
        #expect(throws: Never.self) { try configuration.validate() }
        configuration.maxHeaderBytes = 1 << 20
        #expect(throws: TransportError.self) { try configuration.validate() }
    }
}
