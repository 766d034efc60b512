import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A bare TCP client on 127.0.0.1 for attack tests: it sends what it likes and never follows a
/// protocol. Blocking, with send and receive timeouts so that no call can hang a test.
final class RawPeer {
    let socket: Int32

    init(port: Int, timeout: Duration = .seconds(5)) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socket >= 0, "socket: errno \(errno)")
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = Loopback.address(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 {
            let error = errno
            close(socket)
            try #require(connected == 0, "connect to 127.0.0.1:\(port): errno \(error)")
        }
    }

    deinit { close(socket) }

    /// Sends all of `bytes`; false once the peer closed or reset the connection (or a send timed out).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return false }
            sent += count
        }
        return true
    }

    /// Reads exactly `count` bytes; nil if the connection ended or the read timed out first.
    func receive(_ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var received = 0
        while received < count {
            let n = bytes[received...].withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            received += n
        }
        return bytes
    }

    /// Whether the peer closed (or reset) the connection, without waiting: unread data counts as open.
    var isClosedByPeer: Bool {
        var byte: UInt8 = 0
        let n = recv(socket, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
        if n == 0 { return true }
        if n < 0 { return errno != EAGAIN && errno != EWOULDBLOCK }
        return false
    }
}

/// The resident memory of a process, from /proc/PID/status (VmRSS, in kB).
func residentBytes(of pid: Int32) throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }, "no VmRSS in /proc/\(pid)/status")
    let kilobytes = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]), "VmRSS: \(line)")
    return kilobytes * 1024
}

/// Polls `condition` until it holds or `seconds` pass; the last answer.
func eventually(within seconds: TimeInterval = 20, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return try condition()
}
