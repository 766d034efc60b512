import Cluster
import Foundation
import Logging
import Node
import Testing
import Tranlog
import TransportUV
import UnderstudyTesting

/// `understudy join` with real processes and a real etcd: the leader killed under load, its
/// replacement, and the old primary's return as a standby.
@Suite("Automatic failover on etcd with real processes")
struct ClusterFailoverTests {
    static let ttlSeconds = 3
    /// How long after a leader dies a standby may take to accept writes: the lease expires at most a
    /// TTL after the kill (the last keepalive was sent before it), etcd revokes expired leases in rounds
    /// of half a second, a standby sees the lease gone at its next tick (a second), and the election's
    /// etcd writes, the promotion's syncs and the test's polling take the rest. About 3.8 s on a quiet
    /// machine; the last two seconds are for a loaded one (the whole suite runs at once on two cores).
    static let failoverBoundSeconds = Double(ttlSeconds) + 0.5 + 1 + 2
    /// How long after etcd loses its quorum the leader may go on acknowledging: etcd's leader renews
    /// leases without a quorum until it steps down, which takes it up to two election timeouts; the
    /// node holds commits at the TTL (less its margin) after the last renewal it sent; a second is
    /// for a loaded machine.
    static let quorumLossBoundSeconds = Double(ttlSeconds) + 2 * EtcdServer.electionTimeoutSeconds + 1

    /// The processes of one cluster: etcd, a shared key, and members started with `join`.
    final class Site {
        let directory: URL
        let etcd: EtcdServer
        let client: EtcdClient
        let cluster = "test"
        private(set) var members: [String: ServerProcess] = [:]
        private(set) var ports: [String: (http: Int, replication: Int)] = [:]

        init(in directory: URL, etcdMembers: Int = 1) throws {
            self.directory = directory
            etcd = try EtcdServer(members: etcdMembers, in: directory)
            client = try EtcdClient(commaSeparated: etcd.urls, timeout: .seconds(1), logger: Logger(label: "test.cluster"))
            try writeSecret("a-cluster-shares-this-replication-key\n", to: directory.appendingPathComponent("key"))
        }

        func data(_ name: String) -> String { directory.appendingPathComponent(name).path }

        func initialize(_ name: String) throws {
            let result = try CLIProcess.run(["init", "--data", data(name)], in: directory)
            try #require(result.status == 0, "\(result.standardError)")
        }

        /// Starts (or restarts, on the same ports) member `name`.
        @discardableResult
        func join(_ name: String, extra: [String] = []) throws -> ServerProcess {
            let ports = try self.ports[name] ?? (Loopback.freePort(), Loopback.freePort())
            self.ports[name] = ports
            let process = try ServerProcess([
                "join", "--data", data(name), "--name", name, "--etcd", etcd.urls, "--cluster", cluster, "--ttl", "\(ClusterFailoverTests.ttlSeconds)",
                "--http", "127.0.0.1:\(ports.http)", "--replication", "127.0.0.1:\(ports.replication)",
                "--replication-key-file", directory.appendingPathComponent("key").path,
            ] + extra, in: directory)
            members[name] = process
            return process
        }

        func url(_ name: String) -> String { "http://127.0.0.1:\(ports[name]!.http)" }

        func leader() throws -> LeaderRecord? {
            try client.get("/understudy/\(cluster)/leader").map { try JSONDecoder().decode(LeaderRecord.self, from: Data($0.value)) }
        }

        func member(_ name: String) throws -> MemberRecord? {
            try client.get("/understudy/\(cluster)/members/\(name)").map { try JSONDecoder().decode(MemberRecord.self, from: Data($0.value)) }
        }

        /// Member a, initialized, joined and leading; then `standbys` joined and streaming from it.
        /// `extra` gives each member's flags.
        func startLeaderAndStandbys(_ standbys: [String], extra: (String) throws -> [String] = { _ in [] }) throws {
            try initialize("a")
            try join("a", extra: try extra("a"))
            try self.await("a leads") { try leader()?.name == "a" }
            for name in standbys { try join(name, extra: try extra(name)) }
            try self.await("\(standbys.joined(separator: " and ")) stream from a") { try standbys.allSatisfy { try member($0)?.role == "standby" } }
        }

        /// Polls etcd until `condition` holds, or fails with every member's log.
        func await(_ what: String, within seconds: Double = 60, _ condition: () throws -> Bool) throws {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if (try? condition()) == true { return }
                Thread.sleep(forTimeInterval: 0.05)
            }
            let logs: [String] = members.map { name, process in "== \(name)\n\(process.log)" }
            Issue.record("\(what) did not happen within \(seconds) s; logs:\n\(logs.joined())")
            throw SiteFailure.timedOut(what)
        }

        func cleanUp() {
            for member in members.values { member.cleanUp() }
            client.close()
            etcd.cleanUp()
        }

        enum SiteFailure: Error { case timedOut(String) }
    }

    @Test("synchronous: the leader killed -9 under load; a standby accepts writes within TTL + 3.5 s with every acknowledged commit; the other re-points to it; the old primary re-seeds and follows")
    func leaderKilledUnderLoad() throws {
        try withTemporaryDirectory { directory in
            let site = try Site(in: directory)
            defer { site.cleanUp() }
            // Both standbys required (a standby is told it is required only when no other could stand in
            // for it); the new leader, left with one standby until the old one returns, falls back to
            // asynchronous acknowledgements after a second rather than hold every write.
            let synchronous = ["--synchronous-standbys", "2", "--synchronous-fallback-after", "1"]
            try site.startLeaderAndStandbys(["b", "c"]) { _ in synchronous }
            try site.await("b and c stream from a, each required for every commit") {
                let standbys = try ["b", "c"].compactMap { try site.member($0) }
                return standbys.count == 2 && standbys.allSatisfy { $0.role == "standby" && $0.synchronous }
            }

            let writer = FencingTests.Writer(url: site.url("a"))
            try writer.await(50) { if case .success = $0.outcome { true } else { false } }
            let epochBefore = try #require(try site.leader()).epoch
            site.members["a"]!.stop(with: SIGKILL)
            let killedAt = Date()
            let answers = writer.stop()

            try site.await("a new leader", within: 30) { try site.leader().map { $0.name != "a" } ?? false }
            let leader = try #require(try site.leader())
            #expect(leader.epoch > epochBefore)
            let acceptedAt = try awaitWrite(on: site.url(leader.name), key: "after-failover")
            let failover = acceptedAt.timeIntervalSince(killedAt)
            #expect(failover < Self.failoverBoundSeconds, "\(leader.name) accepted a write \(failover) s after the leader died")

            let acknowledged = answers.indices.filter { if case .success = answers[$0].outcome { true } else { false } }
            try StandbyCommandTests.client(site.url(leader.name)) { (client: NodeClient) throws in
                for index in acknowledged {
                    #expect(try client.get(key: Array("racing-\(index)".utf8)) != nil, "acknowledged commit racing-\(index) lost")
                }
            }

            let other = leader.name == "b" ? "c" : "b"
            let otherProcess = try #require(site.members[other]).process.pid
            try site.await("\(other) re-points to \(leader.name) without a restart") {
                try StandbyCommandTests.client(site.url(other)) { try $0.get(key: Array("after-failover".utf8)) != nil }
            }
            #expect(site.members[other]?.process.isRunning == true && site.members[other]?.process.pid == otherProcess)

            try site.join("a", extra: synchronous)
            try site.await("the old primary re-seeds and follows \(leader.name)") { try site.member("a")?.role == "standby" }
            try site.await("a holds what \(leader.name) committed after the failover") {
                try StandbyCommandTests.client(site.url("a")) { try $0.get(key: Array("after-failover".utf8)) != nil }
            }
            let replaced = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("a.replaced-") }
            #expect(replaced.count == 1, "the replaced primary's directory is kept aside")
        }
    }

    @Test("the leader stopped (SIGSTOP) past the TTL: a new leader is elected, and the old one, continued, acknowledges no commit sent after it was stopped, then follows")
    func leaderPausedPastTheTTL() throws {
        try withTemporaryDirectory { directory in
            let site = try Site(in: directory)
            defer { site.cleanUp() }
            try site.startLeaderAndStandbys(["b"])

            let writer = FencingTests.Writer(url: site.url("a"))
            try writer.await(20) { if case .success = $0.outcome { true } else { false } }
            let a = try #require(site.members["a"]).process.pid
            kill(a, SIGSTOP)
            // kill() returns once the signal is queued: a thread of a's that is running (its loop
            // polls between requests) stops at its next entry to the kernel, a moment later. A commit
            // is sent after the stop only if it is sent after a is seen stopped.
            try Self.awaitStopped(a)
            let stoppedAt = Date()
            try site.await("b takes over from the stopped leader", within: 30) { try site.leader()?.name == "b" }
            kill(a, SIGCONT)
            try site.await("a, continued, is fenced and follows b") { try site.member("a")?.role == "standby" }
            let answers = writer.stop()

            // A stopped process decides nothing, so a commit sent after the stop is decided after the
            // continue, when the lease has run out: it must be refused.
            let acknowledged = answers.indices.filter { if case .success = answers[$0].outcome { true } else { false } }
            let late: [Date] = acknowledged.map { answers[$0].startedAt }.filter { $0 > stoppedAt }
            #expect(late.isEmpty, "the old leader acknowledged \(late.count) commit(s) sent after it was stopped past its lease, at \(late)")
            // An answer that reached the client before the stop left a after its record's frames were
            // written to b's socket (the loop writes the shipper's bytes first), so b has it. The
            // commit in flight at the stop may have been decided inside the lease and answered only
            // after the continue; with asynchronous replication its record may never have reached b,
            // and a counts it as lost when it follows b (`asynchronousLossIsCounted`). Synchronous
            // replication has no such window (`randomizedFaults`).
            let answeredBeforeTheStop = acknowledged.filter { answers[$0].answeredAt < stoppedAt }
            #expect(answeredBeforeTheStop.count >= 20)
            try StandbyCommandTests.client(site.url("b")) { (client: NodeClient) throws in
                for index in answeredBeforeTheStop {
                    #expect(try client.get(key: Array("racing-\(index)".utf8)) != nil, "acknowledged commit racing-\(index) missing on b")
                }
            }
        }
    }

    /// Waits until the kernel reports every thread of `pid` stopped (state `T` in
    /// /proc/PID/task/TID/stat), at most 10 s.
    private static func awaitStopped(_ pid: pid_t) throws {
        func isStopped(_ statFile: String) throws -> Bool {
            let stat = try String(contentsOfFile: statFile, encoding: .utf8)
            // The state follows the command name, which is in parentheses and may hold spaces.
            guard let close = stat.lastIndex(of: ")") else { return false }
            return stat[stat.index(after: close)...].split(separator: " ").first == "T"
        }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
            if try threads.allSatisfy({ try isStopped("/proc/\(pid)/task/\($0)/stat") }) { return }
        }
        Issue.record("process \(pid) was not stopped within 10 s of SIGSTOP")
        throw Site.SiteFailure.timedOut("SIGSTOP of \(pid)")
    }

    @Test("cluster status names the leader, its lease and each member; GET /status has the cluster; a standby's refused write names the primary's URL")
    func status() throws {
        try withTemporaryDirectory { directory in
            let site = try Site(in: directory)
            defer { site.cleanUp() }
            try site.startLeaderAndStandbys(["b"])
            try site.await("a publishes itself as the leader") { try site.member("a")?.role == "leader" }

            let json = try CLIProcess.run(["cluster", "status", "--etcd", site.etcd.urls, "--cluster", site.cluster, "--json"], in: directory)
            try #require(json.status == 0, "\(json.standardError)")
            let view = try JSONDecoder().decode(ClusterView.self, from: Data(json.standardOutput.utf8))
            #expect(view.leader?.name == "a")
            #expect(Set(view.members.map(\.record.name)) == ["a", "b"])
            #expect((view.leaseRemainingSeconds ?? 0) > 0)
            let text = try CLIProcess.run(["cluster", "status", "--etcd", site.etcd.urls, "--cluster", site.cluster], in: directory)
            #expect(text.standardOutput.contains("leader a (epoch 1"), "\(text.standardOutput)")

            let refused = try FencingTests.put("k", on: try #require(site.members["b"]))
            #expect(refused.status == 503)
            #expect(refused.headers[ClusterMembershipStatus.primaryHeader] == site.url("a"))
            try StandbyCommandTests.client(site.url("b")) { (client: NodeClient) throws in
                let cluster = try #require(try client.status().cluster)
                #expect(cluster.leader == "a" && cluster.role == "standby" && cluster.name == site.cluster && cluster.commitsHeld != nil)
            }
            try StandbyCommandTests.client(site.url("a")) { (client: NodeClient) throws in
                #expect(try client.status().cluster?.commitsHeld == nil)
            }

            let unreachable = try CLIProcess.run(["cluster", "status", "--etcd", "http://127.0.0.1:\(try Loopback.freePort())", "--cluster", "x"], in: directory)
            #expect(unreachable.status == 1)
            #expect(unreachable.standardError.contains("no etcd endpoint answered"))
        }
    }

    @Test("switchover under load: zero loss, writes refused no longer than the switchover, the client follows Understudy-Primary, the old leader re-seeds and follows")
    func switchover() throws {
        try withTemporaryDirectory { directory in
            let site = try Site(in: directory)
            defer { site.cleanUp() }
            try site.startLeaderAndStandbys(["b", "c"])

            let writer = FollowingWriter(url: site.url("a"))
            try writer.awaitAcknowledged(30)
            let started = Date()
            let result = try CLIProcess.run(
                ["cluster", "switchover", "--etcd", site.etcd.urls, "--cluster", site.cluster, "--to", "b"], in: directory)
            let switchoverSeconds = Date().timeIntervalSince(started)
            try #require(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput.contains("switchover from a to b done in"))
            try writer.awaitAcknowledged(writer.acknowledgedCount + 30)
            let outcome = writer.stop()

            #expect(try site.leader()?.name == "b")
            #expect(outcome.followedTo == site.url("b"), "the writer did not follow Understudy-Primary to b")
            print("switchover took \(switchoverSeconds) s; longest refused-write window \(outcome.longestRefusal) s")
            #expect(outcome.longestRefusal <= switchoverSeconds, "writes were refused longer than the switchover took")
            try StandbyCommandTests.client(site.url("b")) { (client: NodeClient) throws in
                for acknowledged in outcome.acknowledged {
                    #expect(try client.get(key: Array(acknowledged.key.utf8)) != nil, "acknowledged commit \(acknowledged.key) lost in the switchover")
                }
            }
            try site.await("a re-seeds and follows b") { try site.member("a")?.role == "standby" }
        }
    }

    /// Writes one key at a time; on a 503 naming `Understudy-Primary` it follows that URL. Records
    /// each acknowledged key and the longest run of refusals.
    final class FollowingWriter: @unchecked Sendable {
        struct Acknowledgement {
            var key: String
            var epoch: UInt64
            var at: Date
        }

        struct Outcome {
            var acknowledged: [Acknowledgement]
            var longestRefusal: Double
            var followedTo: String
        }

        private let lock = NSCondition()
        private var outcome: Outcome
        private var stopped = false
        private let done = DispatchSemaphore(value: 0)

        init(url: String) {
            outcome = Outcome(acknowledged: [], longestRefusal: 0, followedTo: url)
            Thread.detachNewThread { [self] in
                defer { done.signal() }
                var url = url
                var refusedSince: Date?
                var index = 0
                while !lock.withLock({ stopped }) {
                    let key = "switch-\(index)"
                    let response = try? StandbyCommandTests.client(url) {
                        try $0.send(method: "PUT", path: "/objects/\(key)", body: [1])
                    }
                    lock.withLock {
                        if let response, response.status == 200 {
                            if let since = refusedSince { outcome.longestRefusal = max(outcome.longestRefusal, Date().timeIntervalSince(since)) }
                            refusedSince = nil
                            let epoch = (try? JSONDecoder().decode(CommitReply.self, from: Data(response.body)))?.epoch.rawValue ?? 0
                            outcome.acknowledged.append(Acknowledgement(key: key, epoch: epoch, at: Date()))
                            lock.broadcast()
                        } else {
                            refusedSince = refusedSince ?? Date()
                            if let primary = response?.headers[ClusterMembershipStatus.primaryHeader] { url = primary }
                        }
                        outcome.followedTo = url
                    }
                    index += 1
                }
            }
        }

        var acknowledgedCount: Int { lock.withLock { outcome.acknowledged.count } }

        func awaitAcknowledged(_ count: Int, within seconds: TimeInterval = 30) throws {
            let deadline = Date().addingTimeInterval(seconds)
            try lock.withLock {
                while outcome.acknowledged.count < count {
                    try #require(lock.wait(until: deadline), "only \(outcome.acknowledged.count) of \(count) writes acknowledged within \(seconds) s")
                }
            }
        }

        /// Stops the writing thread (once; later calls only read the outcome).
        func stop() -> Outcome {
            let first = lock.withLock {
                defer { stopped = true }
                return !stopped
            }
            if first { _ = done.wait(timeout: .now() + 30) }
            return lock.withLock { outcome }
        }
    }

    @Test("randomized rounds of faults (kill -9, SIGSTOP past the TTL, switchover) in synchronous mode: one writer at a time, no acknowledged commit lost",
          arguments: testSeeds(ci: 1, soak: 5))
    func randomizedFaults(seed: UInt64) throws {
        print("randomizedFaults seed \(seed) (replay with UNDERSTUDY_SEED=\(seed))")
        var random = SeededRandom(seed: seed)
        try withTemporaryDirectory { directory in
            let site = try Site(in: directory)
            defer { site.cleanUp() }
            let synchronous = ["--synchronous-standbys", "2", "--synchronous-fallback-after", "1"]
            try site.startLeaderAndStandbys(["b", "c"]) { _ in synchronous }
            let writer = FollowingWriter(url: site.url("a"))
            defer { _ = writer.stop() }
            for round in 1...20 {
                try site.await("round \(round): a leader and two synchronous standbys") {
                    guard let leader = try site.leader() else { return false }
                    let standbys = try ["a", "b", "c"].filter { $0 != leader.name }.compactMap { try site.member($0) }
                    return standbys.count == 2 && standbys.allSatisfy { $0.role == "standby" && $0.synchronous }
                }
                try writer.awaitAcknowledged(writer.acknowledgedCount + 10)
                let leader = try #require(try site.leader()).name
                let standbys = ["a", "b", "c"].filter { $0 != leader }
                let process = try #require(site.members[leader]).process.pid
                switch Int.random(in: 0..<3, using: &random) {
                case 0:
                    print("round \(round): kill -9 of the leader \(leader)")
                    site.members[leader]!.stop(with: SIGKILL)
                    try site.await("a new leader after \(leader) was killed") { try site.leader().map { $0.name != leader } ?? false }
                    try site.join(leader, extra: synchronous)
                case 1:
                    print("round \(round): SIGSTOP of the leader \(leader) past the TTL")
                    kill(process, SIGSTOP)
                    try site.await("a new leader while \(leader) is stopped") { try site.leader().map { $0.name != leader } ?? false }
                    kill(process, SIGCONT)
                default:
                    let target = standbys[Int.random(in: 0..<2, using: &random)]
                    print("round \(round): switchover from \(leader) to \(target)")
                    let result = try CLIProcess.run(
                        ["cluster", "switchover", "--etcd", site.etcd.urls, "--cluster", site.cluster, "--to", target], in: directory)
                    try #require(result.status == 0, "\(result.standardError)")
                }
            }
            try writer.awaitAcknowledged(writer.acknowledgedCount + 10)
            let outcome = writer.stop()
            // One writer at a time: once a commit of epoch E was acknowledged, none of an older epoch is.
            var newest: UInt64 = 0
            for acknowledged in outcome.acknowledged.sorted(by: { $0.at < $1.at }) {
                #expect(acknowledged.epoch >= newest, "\(acknowledged.key) acknowledged in epoch \(acknowledged.epoch) after epoch \(newest)")
                newest = max(newest, acknowledged.epoch)
            }
            let leader = try #require(try site.leader())
            try StandbyCommandTests.client(site.url(leader.name)) { (client: NodeClient) throws in
                for acknowledged in outcome.acknowledged {
                    #expect(try client.get(key: Array(acknowledged.key.utf8)) != nil, "acknowledged commit \(acknowledged.key) lost")
                }
            }
            print("randomizedFaults: \(outcome.acknowledged.count) commits acknowledged over 20 rounds, final epoch \(leader.epoch)")
        }
    }

    @Test("asynchronous: the leader killed -9 while its standby was behind; the old primary, back, counts the exact loss from its own log into etcd and cluster status, and keeps the records")
    func asynchronousLossIsCounted() throws {
        try withTemporaryDirectory { directory in
            let site = try Site(in: directory)
            defer { site.cleanUp() }
            try site.startLeaderAndStandbys(["b"])
            _ = try awaitWrite(on: site.url("a"), key: "before-the-loss")
            try site.await("b has the first write") {
                try StandbyCommandTests.client(site.url("b")) { try $0.get(key: Array("before-the-loss".utf8)) != nil }
            }

            // Stopped, b reads nothing; more than the sockets' buffers hold is acknowledged meanwhile,
            // asynchronously, so part of it can only be on a when a dies.
            let standby = try #require(site.members["b"]).process.pid
            kill(standby, SIGSTOP)
            var acknowledged: [String] = []
            let value = [UInt8](repeating: 7, count: 100_000)
            try StandbyCommandTests.client(site.url("a")) { (client: NodeClient) throws in
                for index in 0..<300 {
                    _ = try client.put(key: Array("while-behind-\(index)".utf8), value: value)
                    acknowledged.append("while-behind-\(index)")
                }
            }
            site.members["a"]!.stop(with: SIGKILL)
            kill(standby, SIGCONT)

            try site.await("b leads", within: 30) { try site.leader()?.name == "b" }
            _ = try awaitWrite(on: site.url("b"), key: "after-failover")
            let missing = try StandbyCommandTests.client(site.url("b")) { (client: NodeClient) throws in
                try acknowledged.filter { try client.get(key: Array($0.utf8)) == nil }
            }
            try #require(!missing.isEmpty, "the test lost nothing to count: b received all \(acknowledged.count) writes")

            try site.join("a")
            try site.await("a re-seeds and follows b") { try site.member("a")?.role == "standby" }
            let held = try site.client.list(prefix: "/understudy/\(site.cluster)/losses/")
            try #require(held.count == 1, "one loss record, for a's epoch")
            let loss = try JSONDecoder().decode(LossRecord.self, from: Data(held[0].value))
            let claim = try #require(try site.client.get("/understudy/\(site.cluster)/epoch").map { try JSONDecoder().decode(EpochClaim.self, from: Data($0.value)) })
            let epochBegan = try #require(claim.history?.last?.startSeqno.rawValue)
            #expect(loss.member == "a" && loss.successor == "b" && loss.successorEpoch == claim.epoch)
            #expect(loss.firstSeqno == epochBegan, "the loss starts where b's epoch began")
            // Every acknowledged commit b lacks is one lost record; the count may add records no client
            // wrote (a checkpoint's), never fewer.
            let records = try #require(loss.records)
            #expect(records >= UInt64(missing.count), "\(records) record(s) counted, \(missing.count) acknowledged commits missing")
            print("asynchronousLossIsCounted: \(missing.count) of \(acknowledged.count) acknowledged commits missing on b; a counted \(records) lost record(s)")
            #expect(FileManager.default.fileExists(atPath: loss.keptIn), "the lost records are kept in \(loss.keptIn)")

            let status = try CLIProcess.run(["cluster", "status", "--etcd", site.etcd.urls, "--cluster", site.cluster], in: directory)
            #expect(status.standardOutput.contains("LOSS at \(loss.at): a, replaced by b"), "\(status.standardOutput)")
        }
    }

    @Test("TLS: members serve mutual TLS; a standby copies its base and streams over it, a refused write names the https:// leader, SIGHUP reloads a member's certificate, and a kill -9 fails over")
    func tlsCluster() throws {
        try withTemporaryDirectory { directory in
            let site = try Site(in: directory)
            defer { site.cleanUp() }
            let certificates = TestCertificates(in: directory)
            let ca = try certificates.makeCA("ca")
            func tls(_ name: String, serial: Int) throws -> [String] {
                TLSCommandTests.Cluster.tlsArguments(try certificates.makeCertificate(name, signedBy: ca, serial: serial), ca: ca)
            }
            let identity = try certificates.makeCertificate("client", signedBy: ca, serial: 0x60)
            let clientTLS = TLSConfiguration(certificateFile: identity.certificate, keyFile: identity.key, caFile: ca.certificate)
            func https(_ name: String) -> String { "https://127.0.0.1:\(site.ports[name]!.http)" }
            func client<Value>(_ name: String, _ body: (NodeClient) throws -> Value) throws -> Value {
                let client = try NodeClient(url: https(name), timeout: .seconds(5), tls: clientTLS)
                defer { client.close() }
                return try body(client)
            }

            // b and c copy their base from a and stream from it, over TLS.
            let serials = ["a": 0x51, "b": 0x52, "c": 0x53]
            try site.startLeaderAndStandbys(["b", "c"]) { try tls($0, serial: serials[$0]!) }
            _ = try client("a") { try $0.put(key: Array("over-tls".utf8), value: [1]) }
            try site.await("b has the write") { try client("b") { try $0.get(key: Array("over-tls".utf8)) != nil } }
            let refused = try client("b") { try $0.send(method: "PUT", path: "/objects/refused", body: [1]) }
            #expect(refused.status == 503)
            #expect(refused.headers[ClusterMembershipStatus.primaryHeader] == https("a"), "\(refused.headers)")

            try #require(site.members["b"]).process.send(SIGHUP)
            try site.await("b reloads its certificates") { site.members["b"]!.log.contains("TLS certificates reloaded") }

            site.members["a"]!.stop(with: SIGKILL)
            try site.await("a new leader", within: 30) { try site.leader().map { $0.name != "a" } ?? false }
            let leader = try #require(try site.leader()).name
            try site.await("\(leader) accepts writes over TLS") {
                try client(leader) { try $0.put(key: Array("after-failover".utf8), value: [1]) }.seqno.rawValue > 0
            }
            #expect(try client(leader) { try $0.get(key: Array("over-tls".utf8)) } != nil)
        }
    }

    @Test("three etcd members: one lost changes nothing; quorum lost: the leader stops acknowledging within the TTL once etcd's leader steps down, and nobody is promoted; quorum back: writes resume")
    func etcdQuorum() throws {
        try withTemporaryDirectory { directory in
            let site = try Site(in: directory, etcdMembers: 3)
            defer { site.cleanUp() }
            try site.startLeaderAndStandbys(["b"])

            site.etcd.kill(2)
            _ = try awaitWrite(on: site.url("a"), key: "one-etcd-member-lost", within: 5)
            // The killed member may have been etcd's own leader: the test's read waits for the two left
            // to elect one (the nodes ride that out by retrying; a read of the test's would not).
            try site.etcd.awaitQuorum()
            #expect(try site.leader()?.name == "a")

            site.etcd.kill(1)
            let quorumLostAt = Date()
            let refusedAt = try awaitRefusal(on: site.url("a"))
            #expect(refusedAt.timeIntervalSince(quorumLostAt) < Self.quorumLossBoundSeconds, "writes still acknowledged \(refusedAt.timeIntervalSince(quorumLostAt)) s after the quorum was lost")
            try StandbyCommandTests.client(site.url("b")) { (client: NodeClient) throws in
                #expect(try client.status().role == "standby", "b was promoted without etcd's quorum")
            }

            try site.etcd.start(1)
            _ = try awaitWrite(on: site.url("a"), key: "quorum-back", within: 30)
            try StandbyCommandTests.client(site.url("b")) { (client: NodeClient) throws in
                #expect(try client.status().role == "standby")
            }
        }
    }

    /// Puts keys on `url` until one is refused; when it was.
    private func awaitRefusal(on url: String, within seconds: Double = 30) throws -> Date {
        let client = try NodeClient(url: url, timeout: .seconds(2))
        defer { client.close() }
        let deadline = Date().addingTimeInterval(seconds)
        var index = 0
        while Date() < deadline {
            do throws(NodeClientError) {
                _ = try client.put(key: Array("until-refused-\(index)".utf8), value: [1])
                index += 1
            } catch {
                return Date()
            }
        }
        Issue.record("\(url) kept acknowledging writes for \(seconds) s")
        throw Site.SiteFailure.timedOut("a refusal on \(url)")
    }

    /// Puts `key` on `url` until it is acknowledged; when it was.
    private func awaitWrite(on url: String, key: String, within seconds: Double = 30) throws -> Date {
        let client = try NodeClient(url: url, timeout: .seconds(2))
        defer { client.close() }
        let deadline = Date().addingTimeInterval(seconds)
        var last = ""
        while Date() < deadline {
            do throws(NodeClientError) {
                _ = try client.put(key: Array(key.utf8), value: [1])
                return Date()
            } catch {
                last = "\(error)"
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("no write accepted on \(url) within \(seconds) s: \(last)")
        throw Site.SiteFailure.timedOut("write on \(url)")
    }
}
