import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on 127.0.0.1 in the test process, in front of `upstream`, that can cut its connection
/// in the middle of what the upstream is sending: asked to cut, it forwards only the first half of
/// the next read of at least `minimumCutBytes` (part of a records batch under load, not a small
/// heartbeat), then shuts both sockets. Blocking sockets, two threads per connection.
final class TCPProxy: @unchecked Sendable {
    let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let minimumCutBytes: Int
    private let state = NSCondition()
    private var cutRequested = false
    /// Until then, nothing is forwarded from upstream (a stalled link: bytes queue, nothing is lost).
    private var stalledUntil = Date.distantPast
    private var cutsDone = 0
    private var open: Set<Int32> = []
    private var closed = false

    init(upstreamPort: Int, minimumCutBytes: Int = 256) throws {
        self.upstreamPort = upstreamPort
        self.minimumCutBytes = minimumCutBytes
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(listener >= 0, "socket: errno \(errno)")
        port = try Loopback.bindFreePort(listener)
        try #require(Glibc.listen(listener, 16) == 0, "listen: errno \(errno)")
        self.listener = listener
        Thread.detachNewThread { self.acceptLoop() }
    }

    var address: String { "127.0.0.1:\(port)" }

    /// Cuts the connection at the next large enough read from upstream, and waits until it did.
    func cutMidStream(deadline seconds: TimeInterval = 30) throws {
        state.lock()
        defer { state.unlock() }
        let target = cutsDone + 1
        cutRequested = true
        let deadline = Date().addingTimeInterval(seconds)
        while cutsDone < target {
            try #require(state.wait(until: deadline), "no data from upstream to cut within \(seconds) s")
        }
    }

    /// Holds what the upstream sends for `seconds`, then forwards it: a link that stalls and resumes.
    func stall(seconds: TimeInterval) {
        state.lock()
        stalledUntil = Date().addingTimeInterval(seconds)
        state.unlock()
    }

    private func waitWhileStalled() {
        state.lock()
        while !closed, Date() < stalledUntil { _ = state.wait(until: stalledUntil) }
        state.unlock()
    }

    /// Stops accepting and shuts the open connections. Calling it again does nothing: closing the
    /// listener's descriptor twice could close another test's socket that reused the number.
    func close() {
        state.lock()
        guard !closed else { return state.unlock() }
        closed = true
        let sockets = open
        state.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
        sockets.forEach { shutdown($0, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }  // the listener was shut down
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Loopback.address(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            state.lock()
            let refused = closed || connected != 0
            if !refused { open.formUnion([client, upstream]) }
            state.unlock()
            if refused {
                Glibc.close(client)
                Glibc.close(upstream)
                continue
            }
            let pair = SocketPair(client: client, upstream: upstream) { [weak self] in self?.forget($0) }
            Thread.detachNewThread { self.pump(from: upstream, to: client, cutting: true, pair: pair) }
            Thread.detachNewThread { self.pump(from: client, to: upstream, cutting: false, pair: pair) }
        }
    }

    private func pump(from source: Int32, to destination: Int32, cutting: Bool, pair: SocketPair) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            if cutting { waitWhileStalled() }
            var forward = count
            let cut = cutting && takeCut(count)
            if cut { forward = count / 2 }
            guard writeAll(buffer[..<forward], to: destination) else { break }
            if cut {
                state.lock()
                cutsDone += 1
                state.broadcast()
                state.unlock()
                break
            }
        }
        pair.finished()
    }

    private func takeCut(_ count: Int) -> Bool {
        state.lock()
        defer { state.unlock() }
        guard cutRequested, count >= minimumCutBytes else { return false }
        cutRequested = false
        return true
    }

    private func writeAll(_ bytes: ArraySlice<UInt8>, to socket: Int32) -> Bool {
        var sent = 0
        while sent < bytes.count {
            // send, not write: a peer that already closed must not raise SIGPIPE in the test process.
            let written = bytes.withUnsafeBytes { send(socket, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { return false }
            sent += written
        }
        return true
    }

    private func forget(_ sockets: [Int32]) {
        state.lock()
        sockets.forEach { open.remove($0) }
        state.unlock()
    }
}

/// Both directions of one proxied connection: the first pump to stop shuts both sockets (so the other
/// stops too); the last one closes them.
private final class SocketPair: @unchecked Sendable {
    private let client: Int32
    private let upstream: Int32
    private let lock = NSLock()
    private var running = 2
    private let onClose: ([Int32]) -> Void

    init(client: Int32, upstream: Int32, onClose: @escaping ([Int32]) -> Void) {
        self.client = client
        self.upstream = upstream
        self.onClose = onClose
    }

    func finished() {
        shutdown(client, Int32(SHUT_RDWR))
        shutdown(upstream, Int32(SHUT_RDWR))
        let last = lock.withLock {
            running -= 1
            return running == 0
        }
        guard last else { return }
        onClose([client, upstream])
        Glibc.close(client)
        Glibc.close(upstream)
    }
}
