import Foundation
import Testing
import UnderstudyTesting

/// What an unauthenticated peer can make a primary hold on its replication port: one small message
/// per connection (a hello's size), at most `--max-pending-connections` connections, and a bounded
/// number of log lines, whatever it sends. Real processes, real sockets.
@Suite("Replication port limits before authentication, against a real primary")
struct ReplicationPortLimitTests {
    /// A primary serving standbys on a free port, its key file 0600.
    static func startPrimary(in directory: URL, arguments: [String] = [], environment: [String: String] = [:]) throws -> ServerProcess {
        let data = directory.appendingPathComponent("primary")
        let created = try CLIProcess.run(["init", "--data", data.path, "--source-id", "primary"], in: directory)
        try #require(created.status == 0, "\(created.standardError)")
        let key = directory.appendingPathComponent("key")
        try writeSecret("primary-and-standby-share-this-key\n", to: key)
        let node = try ServerProcess(
            ["start", "--data", data.path, "--http", "127.0.0.1:0", "--replication", "127.0.0.1:0", "--replication-key-file", key.path]
                + arguments, in: directory, environment: environment)
        try #require(node.fields["replication"] != nil, "no replication= in the ready line")
        return node
    }

    static func port(of node: ServerProcess) throws -> Int {
        try #require(node.fields["replication"]?.split(separator: ":").last.flatMap { Int($0) }, "replication=\(node.fields["replication"] ?? "?")")
    }

    /// The challenge a primary sends each new connection: length, type, 32 bytes, CRC.
    static let challengeBytes = 4 + 1 + 32 + 4

    @Test("40 connections announcing a 64 MiB hello and sending data: the primary's memory stays bounded, each is closed")
    func hugeHellos() throws {
        try withTemporaryDirectory { directory in
            let primary = try Self.startPrimary(in: directory)
            defer { primary.cleanUp() }
            let port = try Self.port(of: primary)
            let before = try residentBytes(of: primary.process.pid)
            // Length 64 MiB, type 2 (hello), the magic, then filler: 8 MiB a connection, 320 MiB in all,
            // which a primary buffering up to its largest message (64 MiB) would hold.
            let announced = UInt32(64 << 20)
            let header = withUnsafeBytes(of: announced.littleEndian) { Array($0) } + [2] + Array("USREPL".utf8)
            let filler = [UInt8](repeating: 0x5A, count: 256 << 10)
            var peers: [RawPeer] = []
            for _ in 0..<40 {
                let peer = try RawPeer(port: port, timeout: .seconds(2))
                _ = peer.receive(Self.challengeBytes)
                if peer.send(header) {
                    for _ in 0..<32 where peer.send(filler) {}
                }
                peers.append(peer)
            }
            let after = try residentBytes(of: primary.process.pid)
            #expect(after - before < 64 << 20, "RSS grew by \((after - before) >> 20) MiB")
            #expect(eventually { peers.allSatisfy(\.isClosedByPeer) }, "the primary left a garbage connection open")
            let violations = primary.log.split(separator: "\n").filter { $0.contains("protocol violation") }
            #expect((1...2).contains(violations.count), "garbage is logged once per peer per minute, with a count: \(violations)")
            #expect(violations.first?.contains("message length 67108864 is outside 9...65536") == true, "\(violations)")
            // Still serving.
            let status = try CLIProcess.run(["status", "--node", primary.url], in: directory)
            #expect(status.status == 0, "\(status.standardError)")
        }
    }

    @Test("200 idle connections: at most --max-pending-connections are kept, the oldest dropped, the log bounded")
    func pendingConnections() throws {
        try withTemporaryDirectory { directory in
            // The hello timeout far away, so that only the pending limit drops connections here.
            let primary = try Self.startPrimary(in: directory, environment: ["UNDERSTUDY_TEST_HANDSHAKE_TIMEOUT_MS": "600000"])
            defer { primary.cleanUp() }
            let port = try Self.port(of: primary)
            var peers: [RawPeer] = []
            for index in 0..<200 {
                let peer = try RawPeer(port: port)
                // The challenge comes once the primary accepted: connections are pending in this order.
                try #require(peer.receive(Self.challengeBytes) != nil, "connection \(index) got no challenge")
                peers.append(peer)
            }
            #expect(eventually { peers.filter(\.isClosedByPeer).count >= 136 })
            let closed = peers.indices.filter { peers[$0].isClosedByPeer }
            #expect(closed == Array(0..<136), "the oldest 136 are dropped, the newest 64 kept: closed \(closed)")
            let lines = primary.log.split(separator: "\n")
            let drops = lines.filter { $0.contains("unauthenticated, dropped: the oldest of more than 64 connections") }
            #expect(drops.count == 1, "one line for 136 drops from one host within a minute: \(drops)")
            #expect(lines.count < 40, "the log stays short: \(lines.count) lines\n\(primary.log)")
        }
    }
}
