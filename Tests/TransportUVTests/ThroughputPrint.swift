import Testing
import Transport
@testable import TransportUV

/// Not a benchmark and asserts no speed: prints loopback throughput of 1 KiB frames written with
/// backpressure, so a regression in write coalescing is visible in the test log.
@Suite struct ThroughputPrint {
    @Test func printsLoopbackFrameThroughput() throws {
        let frameCount = 50_000
        let loop = try makeLoop()
        let received = Locked(0)
        let port = try #require(loop.executeAndWait { () -> Int? in
            try? loop.listen(host: "127.0.0.1", port: 0) { connection in
                connection.start(ConnectionCallbacks(onRead: { bytes in
                    received.withLockNotifying { $0 += bytes.count }
                }))
            }.address.port
        } ?? nil)
        let clock = ContinuousClock()
        let start = clock.now
        loop.execute {
            loop.connect(host: "127.0.0.1", port: port) { result in
                guard case .success(let connection) = result else { return }
                var sent = 0
                func pump() {
                    while sent < frameCount {
                        sent += 1
                        if connection.write([UInt8](repeating: 0x5A, count: 1024)) == .queueFull { return }
                    }
                }
                connection.start(ConnectionCallbacks(onRead: { _ in }, onWritable: pump))
                pump()
            }
        }
        #expect(received.wait(timeout: deadline) { $0 == frameCount * 1024 })
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("loopback, 1 KiB frames, coalesced writes: \(Int(Double(frameCount) / seconds)) frames/s (\(elapsed))")
        shutdownCleanly(loop)
    }
}
