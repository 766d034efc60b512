import Logging
import Testing
import Transport
@testable import TransportUV

/// Carries loop-confined objects through `@Sendable` closures; only touched on the loop thread.
final class LoopBound<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// Every wait in these tests has this deadline; none sleeps.
let deadline: Duration = .seconds(10)

func makeLoop(_ configuration: TransportConfiguration = TransportConfiguration()) throws -> UVEventLoop {
    var logger = Logger(label: "understudy.transport.test")
    logger.logLevel = .warning
    return try UVEventLoop(configuration: configuration, logger: logger)
}

/// Shuts the loop down and checks that every handle closed and every retain handed to libuv came back.
func shutdownCleanly(_ loop: UVEventLoop, sourceLocation: SourceLocation = #_sourceLocation) {
    loop.shutdown()
    #expect(loop.openResourceCount == 0, sourceLocation: sourceLocation)
    #expect(loop.retainedContexts == 0, sourceLocation: sourceLocation)
}

/// Starts an echo server on 127.0.0.1 and returns its port; `onClose` learns how each connection ended.
func startEchoServer(on loop: UVEventLoop, onClose: @escaping @Sendable (CloseReason) -> Void = { _ in }) throws -> Int {
    let port = loop.executeAndWait { () -> Result<Int, TransportError> in
        Result { () throws(TransportError) -> Int in
            let listener = try loop.listen(host: "127.0.0.1", port: 0) { connection in
                connection.start(ConnectionCallbacks(
                    onRead: { _ = connection.write($0) }, onClose: onClose))
            }
            return listener.address.port
        }
    }
    return try #require(port).get()
}

/// What a test client saw, readable from the test thread.
struct ClientLog: Sendable {
    var received: [UInt8] = []
    var closeReason: CloseReason?
    var writableCount = 0
}

/// A client connection driven from the test thread.
final class TestClient: Sendable {
    let loop: UVEventLoop
    let log = Locked(ClientLog())
    private let connection = LoopBound<(any Connection)?>(nil)

    init(loop: UVEventLoop, port: Int, paused: Bool = false) throws {
        self.loop = loop
        let outcome = Locked<Result<Void, TransportError>?>(nil)
        loop.execute { [log, connection] in
            loop.connect(host: "127.0.0.1", port: port) { result in
                if case .success(let established) = result {
                    connection.value = established
                    established.start(ConnectionCallbacks(
                        onRead: { bytes in log.withLockNotifying { $0.received += bytes } },
                        onWritable: { log.withLockNotifying { $0.writableCount += 1 } },
                        onClose: { reason in log.withLockNotifying { $0.closeReason = reason } }))
                    if paused { established.pauseReading() }
                }
                outcome.withLockNotifying { $0 = result.map { _ in } }
            }
        }
        #expect(outcome.wait(timeout: deadline) { $0 != nil })
        try outcome.withLock { $0 }?.get()
    }

    func send(_ bytes: [UInt8]) {
        loop.execute { [connection] in _ = connection.value?.write(bytes) }
    }

    func send(_ text: String) {
        send(Array(text.utf8))
    }

    func onLoop(_ body: @escaping @Sendable (any Connection) -> Void) {
        loop.execute { [connection] in connection.value.map(body) }
    }

    @discardableResult
    func waitForBytes(_ count: Int) -> [UInt8] {
        _ = log.wait(timeout: deadline) { $0.received.count >= count || $0.closeReason != nil }
        return log.withLock { $0.received }
    }

    func waitForClose() -> CloseReason? {
        _ = log.wait(timeout: deadline) { $0.closeReason != nil }
        return log.withLock { $0.closeReason }
    }
}
