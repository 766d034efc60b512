import Foundation
import Logging
import Node
import Repository
import Testing
import Tranlog
import Transport
import TransportUV

@Suite("Restart and misbehaving clients")
struct RecoveryTests {
    @Test("a node restarted on the same directory serves everything acknowledged before")
    func restart() throws {
        try withNode(configure: { $0.repository.checkpointLogBytes = 4096 }) { fixture in
            var expected: [String: [UInt8]] = [:]
            for index in 0..<60 {
                let key = "key-\(index % 40)"
                if index % 7 == 3 {
                    _ = try fixture.client.delete(key: .init(key))
                    expected[key] = nil
                } else {
                    let value = [UInt8]("value \(index)")
                    _ = try fixture.client.put(key: .init(key), value: value)
                    expected[key] = value
                }
            }
            let before = try fixture.client.status().repository.applied.seqno
            try fixture.restart()
            for (key, value) in expected { #expect(try fixture.client.get(key: .init(key))?.value == value, "\(key)") }
            #expect(try fixture.client.list(limit: 1000).keys.count == expected.count)
            let after = try fixture.client.put(key: .init("after-restart"), value: [])
            #expect(after.seqno > before)
        }
    }

    @Test("clients hanging up mid-request or before the answer do not hurt the node")
    func disconnectingClients() throws {
        try withNode { fixture in
            let address = fixture.node.httpAddress
            try hangUp(after: "PUT /objects/torn HTTP/1.1\r\nContent-Length: 100\r\n\r\nonly-part", on: address)
            try hangUp(after: "PUT /objects/early HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", on: address)
            try hangUp(after: "GET /objects/some", on: address)
            _ = try fixture.client.put(key: .init("still"), value: .init("fine"))
            #expect(try fixture.client.get(key: .init("still"))?.value == .init("fine"))
            #expect(try fixture.client.get(key: .init("torn")) == nil)
        }
    }

    /// Connects, sends `text`, closes at once (without reading the answer) and waits for the close.
    private func hangUp(after text: String, on address: SocketAddress) throws {
        let loop = try UVEventLoop(logger: quietLogger)
        defer { loop.shutdown() }
        let closed = Locked<Result<Void, TransportError>?>(nil)
        loop.execute {
            loop.connect(host: address.host, port: address.port) { result in
                switch result {
                case .failure(let error):
                    closed.withLockNotifying { $0 = .failure(error) }
                case .success(let connection):
                    connection.start(ConnectionCallbacks(onRead: { _ in }, onClose: { _ in closed.withLockNotifying { $0 = .success(()) } }))
                    _ = connection.write(Array(text.utf8))
                    connection.close(.local("test hangs up"), mode: .afterFlush)
                }
            }
        }
        #expect(closed.wait(timeout: .seconds(10)) { $0 != nil })
        try closed.withLock { $0 }?.get()
    }
}
