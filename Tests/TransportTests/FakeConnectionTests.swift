import Testing
import Transport

/// Records what one end of a fake connection saw.
final class Recorder {
    var received: [UInt8] = []
    var closeReasons: [CloseReason] = []
    var writableCount = 0

    var callbacks: ConnectionCallbacks {
        ConnectionCallbacks(
            onRead: { self.received += $0 },
            onWritable: { self.writableCount += 1 },
            onClose: { self.closeReasons.append($0) })
    }
}

/// A connected pair on a fresh loop, both ends started.
struct Pair {
    let loop: FakeEventLoop
    let client: FakeConnection
    let server: FakeConnection
    let clientSide = Recorder()
    let serverSide = Recorder()

    init(configuration: TransportConfiguration = TransportConfiguration()) throws {
        loop = FakeEventLoop(configuration: configuration)
        var accepted: FakeConnection?
        var connected: FakeConnection?
        let listener = try loop.listen(host: "127.0.0.1", port: 0) { accepted = $0 as? FakeConnection }
        loop.connect(host: "127.0.0.1", port: listener.address.port) { connected = try? ($0.get() as? FakeConnection) }
        loop.run()
        client = try #require(connected)
        server = try #require(accepted)
        client.start(clientSide.callbacks)
        server.start(serverSide.callbacks)
    }
}

@Suite struct FakeConnectionTests {
    @Test func bytesTravelBothWaysInOrder() throws {
        let pair = try Pair()
        _ = pair.client.write([1, 2, 3])
        _ = pair.client.write([4])
        _ = pair.server.write([9, 8])
        #expect(pair.serverSide.received.isEmpty, "nothing moves before the loop runs")
        pair.loop.run()
        #expect(pair.serverSide.received == [1, 2, 3, 4])
        #expect(pair.clientSide.received == [9, 8])
        #expect(pair.client.queuedWriteBytes == 0)
    }

    @Test func connectToAClosedPortIsRefused() {
        let loop = FakeEventLoop()
        var result: Result<any Connection, TransportError>?
        loop.connect(host: "127.0.0.1", port: 1) { result = $0 }
        loop.run()
        guard case .failure(let error) = result else { Issue.record("expected a refusal"); return }
        #expect(error.code == "ECONNREFUSED")
        #expect(error.address == SocketAddress(host: "127.0.0.1", port: 1))
    }

    @Test func stalledReaderCausesBackpressureThenDrains() throws {
        var configuration = TransportConfiguration()
        configuration.writeHighWaterBytes = 1000
        configuration.writeLowWaterBytes = 100
        let pair = try Pair(configuration: configuration)
        pair.server.pauseReading()

        #expect(pair.client.write([UInt8](repeating: 1, count: 600)) == .queued)
        #expect(pair.client.write([UInt8](repeating: 2, count: 600)) == .queueFull)
        #expect(pair.client.write([3]) == .rejected)
        pair.loop.run()
        #expect(pair.serverSide.received.isEmpty)
        #expect(!pair.client.isWritable)
        #expect(pair.clientSide.writableCount == 0)

        pair.server.resumeReading()
        pair.loop.run()
        #expect(pair.serverSide.received.count == 1200)
        #expect(pair.client.isWritable)
        #expect(pair.clientSide.writableCount == 1)
        #expect(pair.client.write([4]) == .queued)
    }

    @Test func closeIsDeliveredToBothSides() throws {
        let pair = try Pair()
        pair.client.close(.local("done"))
        #expect(!pair.client.isOpen)
        #expect(pair.client.write([1]) == .closed)
        pair.loop.run()
        #expect(pair.clientSide.closeReasons == [.local("done")])
        #expect(pair.serverSide.closeReasons == [.peerClosed])
    }

    @Test func closeAfterFlushDeliversQueuedBytesFirst() throws {
        let pair = try Pair()
        pair.server.pauseReading()
        _ = pair.client.write([1, 2])
        pair.client.close(.local("response sent"), mode: .afterFlush)
        pair.loop.run()
        #expect(pair.clientSide.closeReasons.isEmpty, "still draining while the peer does not read")
        pair.server.resumeReading()
        pair.loop.run()
        #expect(pair.serverSide.received == [1, 2])
        #expect(pair.clientSide.closeReasons == [.local("response sent")])
        #expect(pair.serverSide.closeReasons == [.peerClosed])
    }

    @Test func injectedResetReachesBothSides() throws {
        let pair = try Pair()
        _ = pair.client.write([1])
        pair.server.injectReset()
        pair.loop.run()
        #expect(pair.serverSide.received.isEmpty, "bytes in flight are lost")
        for side in [pair.clientSide, pair.serverSide] {
            guard case .failed(let error) = side.closeReasons.first else {
                Issue.record("expected a reset, got \(side.closeReasons)")
                continue
            }
            #expect(error.isConnectionReset)
            #expect(side.closeReasons.count == 1)
        }
    }

    @Test func resetModeAbortsOnlyThePeer() throws {
        let pair = try Pair()
        pair.client.close(.local("abort"), mode: .reset)
        pair.loop.run()
        #expect(pair.clientSide.closeReasons == [.local("abort")])
        guard case .failed(let error) = pair.serverSide.closeReasons.first else {
            Issue.record("expected a reset")
            return
        }
        #expect(error.isConnectionReset)
    }

    @Test func wakerCoalescesWakeUps() {
        let loop = FakeEventLoop()
        let runs = Locked(0)
        let waker = LoopWaker(loop: loop) { runs.withLock { $0 += 1 } }
        for _ in 0..<10 { waker.wake() }
        loop.run()
        #expect(runs.withLock { $0 } == 1)
        waker.wake()
        loop.run()
        #expect(runs.withLock { $0 } == 2)
    }
}
