import Dispatch
import Testing
import Transport
@testable import TransportUV

@Suite struct UVConnectionTests {
    @Test func echoesOnManyConcurrentConnections() throws {
        let loop = try makeLoop()
        let port = try startEchoServer(on: loop)
        let clients = try (0..<50).map { _ in try TestClient(loop: loop, port: port) }
        for (index, client) in clients.enumerated() {
            for round in 0..<20 { client.send([UInt8](repeating: UInt8(truncatingIfNeeded: index + round), count: 1000)) }
        }
        for (index, client) in clients.enumerated() {
            let expected = (0..<20).flatMap { [UInt8](repeating: UInt8(truncatingIfNeeded: index + $0), count: 1000) }
            #expect(client.waitForBytes(expected.count) == expected)
        }
        shutdownCleanly(loop)
    }

    @Test func slowReaderCausesBackpressureThenDrains() throws {
        var configuration = TransportConfiguration()
        configuration.writeHighWaterBytes = 256 << 10
        configuration.writeLowWaterBytes = 64 << 10
        let loop = try makeLoop(configuration)
        // Far more than loopback socket buffers hold, so the writer can only finish by waiting for drains.
        let totalBytes = 48 << 20
        let writer = Locked((sent: 0, full: 0, drained: 0))
        let port = try #require(loop.executeAndWait { () -> Int? in
            try? loop.listen(host: "127.0.0.1", port: 0) { connection in
                func pump() {
                    while writer.withLock({ $0.sent }) < totalBytes {
                        let result = connection.write([UInt8](repeating: 7, count: 64 << 10))
                        writer.withLockNotifying { $0.sent += 64 << 10 }
                        if result == .queueFull {
                            writer.withLockNotifying { $0.full += 1 }
                            return
                        }
                    }
                }
                connection.start(ConnectionCallbacks(onRead: { _ in }, onWritable: {
                    writer.withLockNotifying { $0.drained += 1 }
                    pump()
                }))
                pump()
            }.address.port
        } ?? nil)
        let reader = try TestClient(loop: loop, port: port, paused: true)

        #expect(writer.wait(timeout: deadline) { $0.full >= 1 })
        #expect(reader.log.withLock { $0.received.isEmpty }, "a paused reader receives nothing")
        reader.onLoop { $0.resumeReading() }
        #expect(reader.waitForBytes(totalBytes).count == totalBytes)
        #expect(writer.withLock { $0.drained } >= 1)
        shutdownCleanly(loop)
    }

    @Test func peerResetIsReportedAndHarmsNoOtherConnection() throws {
        let loop = try makeLoop()
        let serverCloses = Locked<[CloseReason]>([])
        let port = try startEchoServer(on: loop) { reason in serverCloses.withLockNotifying { $0.append(reason) } }
        let victim = try TestClient(loop: loop, port: port)
        let bystanders = try (0..<3).map { _ in try TestClient(loop: loop, port: port) }
        victim.send("hello")
        victim.waitForBytes(5)

        victim.onLoop { $0.close(.local("test reset"), mode: .reset) }
        #expect(victim.waitForClose() == .local("test reset"))
        #expect(serverCloses.wait(timeout: deadline) { !$0.isEmpty })
        let serverSaw = serverCloses.withLock { $0 }
        guard case .failed(let error) = serverSaw.first else {
            Issue.record("expected a reset, server saw \(serverSaw)")
            return
        }
        #expect(error.isConnectionReset)
        #expect(error.address != nil, "the error names the peer")

        for bystander in bystanders {
            bystander.send("still here")
            #expect(bystander.waitForBytes(10) == Array("still here".utf8))
        }
        shutdownCleanly(loop)
    }

    @Test func workFromManyThreadsRunsOnTheLoopInPerThreadOrder() throws {
        let loop = try makeLoop()
        let perThread = LoopBound([[Int]](repeating: [], count: 8))
        let done = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for item in 0..<1000 {
                loop.execute {
                    precondition(loop.inEventLoop)
                    perThread.value[thread].append(item)
                    done.withLockNotifying { $0 += 1 }
                }
            }
        }
        #expect(done.wait(timeout: deadline) { $0 == 8000 })
        let lists = loop.executeAndWait { perThread.value }
        #expect(lists == [[Int]](repeating: Array(0..<1000), count: 8))
        shutdownCleanly(loop)
    }

    @Test func timersFireAndRepeatUntilCancelled() throws {
        let loop = try makeLoop()
        let fired = Locked((once: 0, repeated: 0))
        loop.execute {
            _ = loop.scheduleTimer(after: .milliseconds(1)) { fired.withLockNotifying { $0.once += 1 } }
            let repeating = LoopBound<(any LoopTimer)?>(nil)
            repeating.value = loop.scheduleTimer(after: .milliseconds(1), repeating: .milliseconds(1)) {
                fired.withLockNotifying { $0.repeated += 1 }
                if fired.withLock({ $0.repeated }) == 3 { repeating.value?.cancel() }
            }
        }
        #expect(fired.wait(timeout: deadline) { $0.once == 1 && $0.repeated == 3 })
        // Both timers closed their handles: the one-shot after firing, the repeating one when cancelled.
        // Close callbacks run at the end of the loop turn, so ask one turn later.
        _ = loop.executeAndWait {}
        #expect(loop.executeAndWait { loop.openResourceCount } == 0)
        #expect(fired.withLock { $0.repeated } == 3)
        shutdownCleanly(loop)
    }

    @Test func listenAndConnectErrorsNameTheAddress() throws {
        let loop = try makeLoop()
        let port = try startEchoServer(on: loop)
        let secondBind = loop.executeAndWait { () -> TransportError? in
            do throws(TransportError) { _ = try loop.listen(host: "127.0.0.1", port: port) { _ in }; return nil } catch { return error }
        }
        #expect(secondBind??.code == "EADDRINUSE")
        #expect(secondBind??.address == SocketAddress(host: "127.0.0.1", port: port))
        let badHost = loop.executeAndWait { () -> TransportError? in
            do throws(TransportError) { _ = try loop.listen(host: "not-an-ip", port: 0) { _ in }; return nil } catch { return error }
        }
        #expect(badHost??.operation == .resolve)

        let closedPort = try #require(loop.executeAndWait { () -> Int? in
            guard let listener = try? loop.listen(host: "127.0.0.1", port: 0, onAccept: { _ in }) else { return nil }
            defer { listener.close() }
            return listener.address.port
        } ?? nil)
        #expect(throws: TransportError.self) { try TestClient(loop: loop, port: closedPort) }
        shutdownCleanly(loop)
    }

    @Test func shutdownClosesEveryHandleAndReleasesEveryRetain() throws {
        let loop = try makeLoop()
        let port = try startEchoServer(on: loop)
        let clients = try (0..<5).map { _ in try TestClient(loop: loop, port: port) }
        for client in clients { client.send([UInt8](repeating: 1, count: 100_000)) }
        loop.execute { _ = loop.scheduleTimer(after: .seconds(3600), repeating: .seconds(1)) {} }
        shutdownCleanly(loop)
        for client in clients {
            #expect(client.log.withLock { $0.closeReason } == .local("event loop shutting down"))
        }
        loop.shutdown()  // a second call is harmless
    }
}
