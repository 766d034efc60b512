import Foundation
import Testing

/// The HTTP port's bounds against a real node: buffered request bodies (503 + Retry-After past
/// them), connections, and bodies that trickle in.
@Suite("HTTP limits of a real node: buffered bodies, connections, slow bodies")
struct HTTPLimitTests {
    static func startNode(in directory: URL, _ arguments: [String] = []) throws -> ServerProcess {
        let data = directory.appendingPathComponent("data")
        let created = try CLIProcess.run(["init", "--data", data.path], in: directory)
        try #require(created.status == 0, "\(created.standardError)")
        return try ServerProcess(data: data, in: directory, extraArguments: arguments)
    }

    static func port(of node: ServerProcess) throws -> Int {
        try #require(node.fields["http"]?.split(separator: ":").last.flatMap { Int($0) }, "http=\(node.fields["http"] ?? "?")")
    }

    /// What arrived on `peer` so far (it waits for nothing).
    static func available(_ peer: RawPeer) -> String {
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = recv(peer.socket, &bytes, bytes.count, Int32(MSG_DONTWAIT | MSG_PEEK))
        return count > 0 ? String(decoding: bytes[..<count], as: UTF8.self) : ""
    }

    @Test("40 connections each announcing a 30 MiB body under a 64 MiB cap: two are read, the rest get 503 + Retry-After; memory stays bounded")
    func bufferedBodies() throws {
        try withTemporaryDirectory { directory in
            let node = try Self.startNode(in: directory, ["--max-buffered-request-bytes", "\(64 << 20)"])
            defer { node.cleanUp() }
            let port = try Self.port(of: node)
            let before = try residentBytes(of: node.process.pid)
            let bodyBytes = 30 << 20
            let head = "POST /commit HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: \(bodyBytes)\r\n\r\n"
            let peers = try (0..<40).map { _ in try RawPeer(port: port) }
            for peer in peers { #expect(peer.send(Array(head.utf8))) }
            // The refused are answered at their headers; the admitted wait for their bodies.
            #expect(eventually { peers.filter { !Self.available($0).isEmpty }.count >= 38 })
            let answered = peers.filter { !Self.available($0).isEmpty }
            #expect(answered.count == 38)
            for peer in answered {
                let response = Self.available(peer)
                #expect(response.hasPrefix("HTTP/1.1 503 "), "\(response)")
                #expect(response.contains("Retry-After: 1\r\n"), "\(response)")
                #expect(response.contains("--max-buffered-request-bytes"), "\(response)")
            }
            // Every connection sends all but the last byte of its body: the refused ones fail at once
            // (their connection is closed), the two admitted are buffered. A blocking send returns once
            // all but the socket buffers (a few MiB) were read by the node.
            let chunk = [UInt8](repeating: 0x20, count: 1 << 20)
            var sent = 0
            for peer in peers {
                for index in 0..<30 where peer.send(index == 29 ? Array(chunk.dropLast()) : chunk) { sent += 1 }
            }
            #expect(sent >= 60, "the two admitted bodies were sent whole: \(sent) MiB")
            let after = try residentBytes(of: node.process.pid)
            #expect(after - before < 256 << 20, "RSS grew by \((after - before) >> 20) MiB for a 64 MiB cap")
            #expect(try CLIProcess.run(["status", "--node", node.url], in: directory).status == 0, "the node still answers")
        }
    }

    @Test("past --max-connections a new connection is answered 503 with Retry-After and closed")
    func connections() throws {
        try withTemporaryDirectory { directory in
            let node = try Self.startNode(in: directory, ["--max-connections", "4"])
            defer { node.cleanUp() }
            let port = try Self.port(of: node)
            var held: [RawPeer] = []
            for _ in 0..<4 {
                let peer = try RawPeer(port: port)
                #expect(peer.send(Array("GET /status HTTP/1.1\r\nHost: test\r\n\r\n".utf8)))
                #expect(eventually { Self.available(peer).hasPrefix("HTTP/1.1 200 ") }, "a connection within the limit is served")
                held.append(peer)
            }
            let extra = try RawPeer(port: port)
            let response = try RawPeer.readAll(extra)
            #expect(response.hasPrefix("HTTP/1.1 503 "), "\(response)")
            #expect(response.contains("Retry-After: 1\r\n") && response.contains("--max-connections"), "\(response)")
            held.removeAll()
            #expect(eventually { (try? CLIProcess.run(["status", "--node", node.url], in: directory).status) == 0 }, "room again once they close")
        }
    }

    @Test("a body that stops arriving is cut with 408 within two rate windows, its room freed")
    func slowBody() throws {
        try withTemporaryDirectory { directory in
            let node = try Self.startNode(in: directory)
            defer { node.cleanUp() }
            let port = try Self.port(of: node)
            let peer = try RawPeer(port: port, timeout: .seconds(30))
            #expect(peer.send(Array("POST /commit HTTP/1.1\r\nHost: test\r\nContent-Length: 1048576\r\n\r\n{\"oper".utf8)))
            let response = try RawPeer.readAll(peer)
            #expect(response.hasPrefix("HTTP/1.1 408 "), "\(response)")
            #expect(response.contains("request body too slow"), "cut by the rate rule, not the 30 s request timeout: \(response)")
        }
    }
}

extension RawPeer {
    /// Everything until the peer closes (or the receive timeout).
    static func readAll(_ peer: RawPeer) throws -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(peer.socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
