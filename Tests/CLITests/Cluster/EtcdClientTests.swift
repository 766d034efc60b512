import Cluster
import Foundation
import Logging
import Testing
import Transport

/// `EtcdClient` against a real etcd started by the test: keys, conditional writes, leases, and
/// failing over between endpoints.
@Suite("EtcdClient against a real etcd")
struct EtcdClientTests {
    static let logger = Logger(label: "test.etcd-client")

    private func withEtcd(members: Int = 1, _ body: (EtcdServer, EtcdClient) throws -> Void) throws {
        try withTemporaryDirectory { directory in
            let etcd = try EtcdServer(members: members, in: directory)
            defer { etcd.cleanUp() }
            let client = try EtcdClient(commaSeparated: etcd.urls, timeout: .seconds(2), logger: Self.logger)
            defer { client.close() }
            try body(etcd, client)
        }
    }

    @Test("put, get, list by prefix and delete round-trip keys and values byte for byte")
    func keys() throws {
        try withEtcd { _, client in
            let value: [UInt8] = [0, 1, 0xFF, 10]
            let revision = try client.put("/t/a", value: value)
            try client.put("/t/b", value: Array("b".utf8))
            try client.put("/u/c", value: Array("c".utf8))
            let read = try #require(try client.get("/t/a"))
            #expect(read.value == value)
            #expect(read.modRevision == revision)
            #expect(try client.list(prefix: "/t/").map(\.key) == ["/t/a", "/t/b"])
            #expect(try client.delete("/t/a"))
            #expect(try client.get("/t/a") == nil)
            #expect(try !client.delete("/t/a"))
        }
    }

    @Test("create only if absent, put and delete only at a revision: the loser sees what the key holds")
    func conditionalWrites() throws {
        try withEtcd { _, client in
            guard case .written(let created) = try client.create("/t/leader", value: Array("one".utf8)) else {
                Issue.record("the first create did not write")
                return
            }
            guard case .conflict(let held?) = try client.create("/t/leader", value: Array("two".utf8)) else {
                Issue.record("a second create did not conflict")
                return
            }
            #expect(held.value == Array("one".utf8))
            #expect(held.modRevision == created)
            #expect(try client.put("/t/leader", value: Array("x".utf8), ifModRevision: created - 1) == .conflict(held))
            guard case .written(let rewritten) = try client.put("/t/leader", value: Array("three".utf8), ifModRevision: created) else {
                Issue.record("a put at the current revision did not write")
                return
            }
            #expect(try client.delete("/t/leader", ifModRevision: created) != .written(revision: rewritten))
            #expect(try client.get("/t/leader")?.value == Array("three".utf8))
            guard case .written = try client.delete("/t/leader", ifModRevision: rewritten) else {
                Issue.record("a delete at the current revision did not delete")
                return
            }
            #expect(try client.get("/t/leader") == nil)
        }
    }

    @Test("a key under a lease lives while it is kept alive and goes with it: revoked, or expired")
    func leases() throws {
        try withEtcd { etcd, client in
            let lease = try client.grantLease(ttlSeconds: 5)
            #expect(lease.ttlSeconds >= 5)
            guard case .written = try client.create("/t/held", value: [1], lease: lease.id) else {
                Issue.record("create under a lease did not write")
                return
            }
            #expect(try client.get("/t/held")?.lease == lease.id)
            #expect(try client.keepAlive(lease.id).ttlSeconds > 0)
            try client.revokeLease(lease.id)
            #expect(try client.get("/t/held") == nil)
            try client.revokeLease(lease.id)  // already gone: not an error
            #expect(throws: EtcdError.leaseNotFound(SocketAddress(host: "127.0.0.1", port: etcd.members[0].clientPort), lease: lease.id)) {
                try client.keepAlive(lease.id)
            }

            let short = try client.grantLease(ttlSeconds: 2)
            try client.put("/t/expiring", value: [2], lease: short.id)
            let deadline = Date().addingTimeInterval(Double(short.ttlSeconds) + 10)
            while try client.get("/t/expiring") != nil, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            #expect(try client.get("/t/expiring") == nil, "a lease not kept alive did not expire")
        }
    }

    @Test("a dead endpoint is passed over; with none answering, the error names each endpoint and why")
    func failover() throws {
        try withEtcd { etcd, _ in
            let dead = "http://127.0.0.1:\(try Loopback.freePort())"
            let client = try EtcdClient(commaSeparated: dead + "," + etcd.urls, timeout: .seconds(2), logger: Self.logger)
            defer { client.close() }
            try client.put("/t/via-second", value: [3])
            #expect(try client.get("/t/via-second")?.value == [3])

            let nobody = try EtcdClient(urls: [dead, "http://127.0.0.1:\(try Loopback.freePort())"], timeout: .seconds(1), logger: Self.logger)
            defer { nobody.close() }
            do throws(EtcdError) {
                _ = try nobody.get("/t/via-second")
                Issue.record("a read with no etcd answering succeeded")
            } catch .unavailable(let failures) {
                #expect(failures.map(\.endpoint) == nobody.endpoints)
                #expect(failures.allSatisfy { $0.reason.contains("cannot connect") }, "\(failures)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test("three members: one lost changes nothing; quorum lost: requests fail as unavailable; quorum back: they succeed")
    func quorum() throws {
        try withEtcd(members: 3) { etcd, client in
            try client.put("/t/q", value: [1])
            etcd.kill(0)
            try client.put("/t/q", value: [2])
            #expect(try client.get("/t/q")?.value == [2])
            etcd.kill(1)
            do throws(EtcdError) {
                _ = try client.put("/t/q", value: [3])
                Issue.record("a write without quorum succeeded")
            } catch .unavailable(let failures) {
                #expect(failures.count == 3, "\(failures)")
            } catch {
                Issue.record("unexpected \(error)")
            }
            try etcd.start(1)
            // A write that timed out may still take effect: the member that proposed it commits it
            // once the quorum is back.
            #expect([[2], [3]].contains(try client.get("/t/q")?.value))
            try client.put("/t/q", value: [4])
            #expect(try client.get("/t/q")?.value == [4])
        }
    }

    @Test("invalid URLs are refused with what was expected")
    func invalidURLs() {
        #expect(throws: EtcdClientSetupError.self) { try EtcdClient(commaSeparated: "https://127.0.0.1:2379", logger: Self.logger) }
        #expect(throws: EtcdClientSetupError.self) { try EtcdClient(commaSeparated: "etcd.example:2379", logger: Self.logger) }
        #expect(throws: EtcdClientSetupError.self) { try EtcdClient(urls: [], logger: Self.logger) }
    }
}
