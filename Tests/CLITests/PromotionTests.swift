import Foundation
import Node
import Testing
import Tranlog
import UnderstudyTesting

/// Failover with real processes: a promoted standby serves its own standbys without a restart, and
/// the old primary may rejoin as a standby only if it committed nothing past the fork.
@Suite("Promotion with real processes: cascading refused, re-pointed standbys, the old primary")
struct PromotionTests {
    /// A temporary directory holding a key file and data directories copied from one stopped primary.
    struct Site {
        let directory: URL
        var key: String { directory.appendingPathComponent("key").path }

        /// `init`s `primary`, writes `keys` through a first run, stops it and copies it to each of `copies`.
        init(in directory: URL, keys: [String: String], copies: [String]) throws {
            self.directory = directory
            try writeSecret("primary-and-standby-share-this-key\n", to: directory.appendingPathComponent("key"))
            let result = try CLIProcess.run(["init", "--data", data("primary"), "--source-id", "primary"], in: directory)
            try #require(result.status == 0, "\(result.standardError)")
            let primary = try startPrimary("primary")
            defer { primary.cleanUp() }
            try StandbyCommandTests.put(keys, on: primary.url)
            #expect(primary.stop(with: SIGTERM) == 0)
            for copy in copies {
                let cp = try ChildProcess.run("/bin/cp", ["-a", data("primary"), data(copy)])
                try #require(cp.termination.succeeded, "\(String(decoding: cp.errors, as: UTF8.self))")
            }
        }

        func data(_ name: String) -> String { directory.appendingPathComponent(name).path }

        func startPrimary(_ name: String) throws -> ServerProcess {
            let node = try ServerProcess([
                "start", "--data", data(name), "--http", "127.0.0.1:0", "--replication", "127.0.0.1:0", "--replication-key-file", key,
            ], in: directory)
            try #require(node.fields["replication"] != nil, "no replication= in the ready line")
            return node
        }

        /// A standby of `primary` (a replication address) that listens on a replication port of its own.
        func startStandby(_ name: String, following primary: ServerProcess, sourceID: String? = nil) throws -> ServerProcess {
            let node = try ServerProcess([
                "standby", "--data", data(name), "--primary", primary.fields["replication"] ?? "?", "--replication-key-file", key,
                "--http", "127.0.0.1:0", "--replication", "127.0.0.1:0",
            ] + (sourceID.map { ["--source-id", $0] } ?? []), in: directory)
            try #require(node.fields["replication"] != nil, "no replication= in the standby's ready line")
            return node
        }

        func promote(_ node: ServerProcess, data name: String) throws -> PromoteReport {
            let result = try CLIProcess.run(["promote", "--node", node.url, "--data", data(name), "--json"], in: directory)
            try #require(result.status == 0, "\(result.standardError)")
            return try JSONDecoder().decode(PromoteReport.self, from: Data(result.standardOutput.utf8))
        }
    }

    static func seqno(of node: ServerProcess) throws -> Seqno {
        try StandbyCommandTests.client(node.url) { try $0.status().repository.applied.seqno }
    }

    static func waitUntilApplied(_ node: ServerProcess, reaches seqno: Seqno) throws {
        _ = try StandbyCommandTests.waitForStatus(of: node, deadline: 60) { $0.repository.applied.seqno >= seqno }
    }

    /// Every key and value a node holds, paging through `GET /objects`.
    static func contents(of node: ServerProcess) throws -> [[UInt8]: [UInt8]] {
        try StandbyCommandTests.client(node.url) { client in
            var contents: [[UInt8]: [UInt8]] = [:]
            var after: [UInt8]?
            repeat {
                let page = try client.list(after: after, limit: 100)
                for key in page.keys { contents[key.bytes] = try client.get(key: key.bytes)?.value }
                after = page.next?.bytes
            } while after != nil
            return contents
        }
    }

    static func keys(_ prefix: String, _ count: Int) -> [String: String] {
        Dictionary(uniqueKeysWithValues: (0..<count).map { ("\(prefix)-\($0)", "\(prefix) value \($0)") })
    }

    @Test("S2 following standby S1 is refused as cascaded; after kill -9 of P and promote of S1 it follows S1 and converges")
    func promotedStandbyServesItsStandbys() throws {
        try withTemporaryDirectory { directory in
            let site = try Site(in: directory, keys: Self.keys("base", 5), copies: ["s1", "s2"])
            let primary = try site.startPrimary("primary")
            defer { primary.cleanUp() }
            let s1 = try site.startStandby("s1", following: primary)
            defer { s1.cleanUp() }
            let s2 = try site.startStandby("s2", following: s1, sourceID: "s2")
            defer { s2.cleanUp() }

            try StandbyCommandTests.put(Self.keys("before", 20), on: primary.url)
            try Self.waitUntilApplied(s1, reaches: try Self.seqno(of: primary))
            let refused = try StandbyCommandTests.waitForStatus(of: s2) { $0.replication?.lastRejection != nil }
            #expect(refused.replication?.lastRejection?.contains("does not serve cascaded standbys") == true, "\(String(describing: refused.replication))")
            let s1Status = try StandbyCommandTests.client(s1.url) { try $0.status() }
            #expect(s1Status.role == "standby")
            #expect(s1Status.replicationAddress == s1.fields["replication"])
            let s1ID = s1Status.repository.sourceID.name
            #expect(s1ID.hasPrefix("primary-standby-"), "a copy of the primary takes its own source id: \(s1ID)")
            #expect(try StandbyCommandTests.client(s2.url) { try $0.status().repository.sourceID.name } == "s2")

            primary.stop(with: SIGKILL)
            let report = try site.promote(s1, data: "s1")
            #expect(report.promoted)
            try StandbyCommandTests.put(Self.keys("after", 30), on: s1.url)
            let target = try Self.seqno(of: s1)
            // At or past: a timed checkpoint of s1 may add its record meanwhile.
            let following = try StandbyCommandTests.waitForStatus(of: s2, deadline: 60) { $0.repository.applied.seqno >= target }
            #expect(following.role == "standby")
            #expect(following.replication?.lastRejection == nil)
            let promoted = try StandbyCommandTests.client(s1.url) { try $0.status() }
            #expect(promoted.role == "primary")
            #expect(promoted.standbys?.count == 1)
            #expect(promoted.repository.applied.sourceID?.name == s1ID, "the promoted node's commits carry its own id")
            let expected = try Self.contents(of: s1)
            #expect(expected.count == 55)
            #expect(try Self.contents(of: s2) == expected)
        }
    }

    /// P and S1 in step at seqno N (returned), then S1 promoted: epoch 2 forks after N.
    static func promoteInStep(_ site: Site, primary: ServerProcess) throws -> (s1: ServerProcess, fork: Seqno) {
        let s1 = try site.startStandby("s1", following: primary)
        try StandbyCommandTests.put(Self.keys("shared", 10), on: primary.url)
        let shared = try Self.seqno(of: primary)
        try Self.waitUntilApplied(s1, reaches: shared)
        let report = try site.promote(s1, data: "s1")
        try #require(report.promoted && report.applied.seqno == shared, "\(report.message)")
        return (s1, shared)
    }

    @Test("an old primary that committed past the fork is refused as forked, as a standby of S1 and as S1's primary")
    func oldPrimaryPastTheForkIsRefused() throws {
        try withTemporaryDirectory { directory in
            let site = try Site(in: directory, keys: Self.keys("base", 3), copies: ["s1"])
            var primary = try site.startPrimary("primary")
            defer { primary.cleanUp() }
            let (s1, fork) = try Self.promoteInStep(site, primary: primary)
            defer { s1.cleanUp() }
            try StandbyCommandTests.put(Self.keys("lost-on-p", 5), on: primary.url)
            try StandbyCommandTests.put(Self.keys("new-on-s1", 5), on: s1.url)
            primary.stop(with: SIGKILL)

            // Restarted as a primary, P feeds nothing to S1: S1 follows no one and never sees P's writes.
            primary = try site.startPrimary("primary")
            try StandbyCommandTests.put(Self.keys("p-again", 5), on: primary.url)
            let s1Status = try StandbyCommandTests.client(s1.url) { try $0.status() }
            #expect(s1Status.role == "primary")
            #expect(s1Status.replication == nil)
            let s1Contents = try Self.contents(of: s1)
            #expect(s1Contents.keys.allSatisfy { !$0.starts(with: Array("lost-on-p".utf8)) && !$0.starts(with: Array("p-again".utf8)) })
            #expect(s1Contents.count == 3 + 10 + 5)
            #expect(primary.stop(with: SIGTERM) == 0)

            // Started as a standby of S1, P is refused: it holds records of epoch 1 past the fork.
            let oldPrimary = try site.startStandby("primary", following: s1)
            defer { oldPrimary.cleanUp() }
            let refused = try StandbyCommandTests.waitForStatus(of: oldPrimary) { $0.replication?.lastRejection != nil }
            let rejection = refused.replication?.lastRejection ?? ""
            #expect(rejection.contains("fork in time at seqno \(fork.next)"), "\(rejection)")
            #expect(rejection.contains("epoch 2"), "\(rejection)")
            #expect(refused.repository.applied.seqno > fork)
            #expect(s1.log.contains("refusing standby"))
        }
    }

    @Test("S1 promoted is refused as a standby by its own promotion marker (exit 78); without it, the restarted old primary fences itself and refuses it")
    func promotedStandbyIsRefusedByTheOldPrimary() throws {
        try withTemporaryDirectory { directory in
            let site = try Site(in: directory, keys: Self.keys("base", 3), copies: ["s1"])
            var primary = try site.startPrimary("primary")
            defer { primary.cleanUp() }
            let (s1, fork) = try Self.promoteInStep(site, primary: primary)
            defer { s1.cleanUp() }
            try StandbyCommandTests.put(Self.keys("new-on-s1", 5), on: s1.url)
            primary.stop(with: SIGKILL)
            #expect(s1.stop(with: SIGTERM) == 0)

            primary = try site.startPrimary("primary")
            // Its standby command line alone is refused: S1 is a primary now (restore.json records the promotion).
            let demoted = try CLIProcess.run([
                "standby", "--data", site.data("s1"), "--primary", primary.fields["replication"] ?? "?",
                "--replication-key-file", site.key, "--http", "127.0.0.1:0",
            ], in: directory)
            #expect(demoted.status == 78)
            #expect(demoted.standardError.contains("restore.json"), "\(demoted.standardError)")
            #expect(demoted.standardError.contains("understudy start"), "\(demoted.standardError)")
            // The operator insists (deletes the marker): its hello shows P epoch 2, so P learns it is an
            // old primary, fences itself and refuses it.
            try FileManager.default.removeItem(atPath: site.data("s1") + "/restore.json")
            let s1AsStandby = try site.startStandby("s1", following: primary)
            defer { s1AsStandby.cleanUp() }
            let refused = try StandbyCommandTests.waitForStatus(of: s1AsStandby) { $0.replication?.lastRejection != nil }
            let rejection = refused.replication?.lastRejection ?? ""
            #expect(rejection.contains("fenced: epoch 2 began at seqno \(fork.next)"), "\(rejection)")
            #expect(try StandbyCommandTests.client(primary.url) { try $0.status().role } == "fenced")
            #expect(try Self.contents(of: s1AsStandby).count == 3 + 10 + 5)
        }
    }

    @Test("an old primary that committed nothing past the fork follows the promoted S1 and converges")
    func oldPrimaryAtTheForkFollows() throws {
        try withTemporaryDirectory { directory in
            let site = try Site(in: directory, keys: Self.keys("base", 3), copies: ["s1"])
            let primary = try site.startPrimary("primary")
            defer { primary.cleanUp() }
            let (s1, _) = try Self.promoteInStep(site, primary: primary)
            defer { s1.cleanUp() }
            primary.stop(with: SIGKILL)
            try StandbyCommandTests.put(Self.keys("new-on-s1", 25), on: s1.url)

            let oldPrimary = try site.startStandby("primary", following: s1)
            defer { oldPrimary.cleanUp() }
            let target = try Self.seqno(of: s1)
            let caughtUp = try StandbyCommandTests.waitForStatus(of: oldPrimary, deadline: 60) {
                $0.repository.applied.seqno >= target || $0.replication?.lastRejection != nil
            }
            #expect(caughtUp.replication?.lastRejection == nil, "\(String(describing: caughtUp.replication))")
            #expect(caughtUp.repository.epoch.rawValue == 2)
            let expected = try Self.contents(of: s1)
            #expect(expected.count == 3 + 10 + 25)
            #expect(try Self.contents(of: oldPrimary) == expected)
        }
    }
}
