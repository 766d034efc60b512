import Foundation
import Node
import Testing
import Tranlog
import TransportUV

/// Fencing with real processes: an old primary still running after a standby was promoted (a
/// partition) is fenced, by the operator or by a standby of the new epoch connecting to it, and then
/// acknowledges no commit, across a restart, until unfenced.
@Suite("Fencing the old primary with real processes")
struct FencingTests {
    typealias Site = PromotionTests.Site

    /// Writes to a node from a thread of its own, one key at a time, until stopped, recording every
    /// answer: the seqno acknowledged, or the refusal.
    final class Writer: @unchecked Sendable {
        struct Answer {
            var startedAt: Date
            var answeredAt: Date
            var outcome: Result<Seqno, NodeClientError>
        }

        private let lock = NSCondition()
        private var answers: [Answer] = []
        private var stopped = false
        private let done = DispatchSemaphore(value: 0)

        init(url: String) {
            Thread.detachNewThread { [self] in
                defer { done.signal() }
                guard let client = try? NodeClient(url: url, timeout: .seconds(10)) else { return }
                defer { client.close() }
                var index = 0
                while !lock.withLock({ stopped }) {
                    let startedAt = Date()
                    let outcome: Result<Seqno, NodeClientError>
                    do throws(NodeClientError) {
                        outcome = .success(try client.put(key: Array("racing-\(index)".utf8), value: [1]).seqno)
                    } catch {
                        outcome = .failure(error)
                    }
                    lock.withLock {
                        answers.append(Answer(startedAt: startedAt, answeredAt: Date(), outcome: outcome))
                        lock.broadcast()
                    }
                    index += 1
                }
            }
        }

        /// Waits (with a deadline) until `count` answers satisfy `matching`.
        func await(_ count: Int, deadline seconds: TimeInterval = 30, matching: (Answer) -> Bool) throws {
            let deadline = Date().addingTimeInterval(seconds)
            try lock.withLock {
                while answers.filter(matching).count < count {
                    try #require(lock.wait(until: deadline), "only \(answers.filter(matching).count) of \(count) answers within \(seconds) s")
                }
            }
        }

        func stop() -> [Answer] {
            lock.withLock { stopped = true }
            _ = done.wait(timeout: .now() + 30)
            return lock.withLock { answers }
        }
    }

    static func refusal(_ answer: Writer.Answer) -> (status: Int, detail: String)? {
        guard case .failure(.refused(let status, _, let detail)) = answer.outcome else { return nil }
        return (status, detail)
    }

    static func put(_ key: String, on node: ServerProcess, headers: HTTPHeaders = [:]) throws -> HTTPResponse {
        try StandbyCommandTests.client(node.url) { try $0.send(method: "PUT", path: "/objects/\(key)", headers: headers, body: [1]) }
    }

    @Test("P still running after S1's promote: `fence` makes it refuse every write with 503 naming epoch 2, acknowledge none after, across a restart, until `unfence`")
    func operatorFencesTheOldPrimary() throws {
        try withTemporaryDirectory { directory in
            let site = try Site(in: directory, keys: PromotionTests.keys("base", 3), copies: ["s1"])
            var primary = try site.startPrimary("primary")
            defer { primary.cleanUp() }
            let (s1, fork) = try PromotionTests.promoteInStep(site, primary: primary)
            defer { s1.cleanUp() }
            let s1ID = try StandbyCommandTests.client(s1.url) { try $0.status().repository.sourceID.name }
            let message = "fenced: epoch 2 began at seqno \(fork.next) on \(s1ID)"

            // Clients still write to P (they were not told of the failover) while the operator fences it.
            let writer = Writer(url: primary.url)
            try writer.await(20) { if case .success = $0.outcome { true } else { false } }
            let fenced = try CLIProcess.run([
                "fence", "--node", primary.url, "--data", site.data("primary"), "--epoch", "2", "--seqno", "\(fork.next)",
                "--opened-by", s1ID, "--json",
            ], in: directory)
            try #require(fenced.status == 0, "\(fenced.standardError)")
            let fencedAt = Date()
            let reply = try JSONDecoder().decode(FenceReply.self, from: Data(fenced.standardOutput.utf8))
            #expect(reply.changed)
            #expect(reply.fence.message == message)
            try writer.await(5) { $0.startedAt > fencedAt }
            let answers = writer.stop()

            let acknowledged = answers.compactMap { try? $0.outcome.get() }
            #expect(!acknowledged.isEmpty)
            #expect(acknowledged.allSatisfy { $0 <= reply.fence.acknowledgedThrough },
                    "no commit past seqno \(reply.fence.acknowledgedThrough) is acknowledged: \(acknowledged.suffix(5))")
            for answer in answers where answer.startedAt > fencedAt {
                let refusal = Self.refusal(answer)
                #expect(refusal?.status == 503, "\(answer.outcome)")
                #expect(refusal?.detail.hasPrefix(message + ".") == true, "\(answer.outcome)")
            }
            for answer in answers {
                if case .failure(let error) = answer.outcome {
                    #expect(Self.refusal(answer)?.detail.hasPrefix(message) == true, "only the fence refuses writes: \(error)")
                }
            }

            let status = try StandbyCommandTests.client(primary.url) { try $0.status() }
            #expect(status.role == "fenced")
            #expect(status.fenced?.epoch == Epoch(2) && status.fenced?.seqno == fork.next && status.fenced?.node == s1ID)
            #expect(status.fenced?.learnedFrom.contains("operator") == true)
            #expect(status.fenced.flatMap { Timestamp(iso8601: $0.since) } != nil, "since is RFC 3339: \(status.fenced?.since ?? "nil")")
            let metrics = try StandbyCommandTests.client(primary.url) { try $0.metrics() }
            #expect(metrics.contains("understudy_fenced 1"), "\(metrics)")
            #expect(metrics.contains("understudy_highest_epoch_seen 2"))
            let again = try CLIProcess.run(["fence", "--node", primary.url, "--data", site.data("primary")], in: directory)
            #expect(again.status == 0 && again.standardOutput.contains("Already \(message)"), "\(again.standardOutput)\(again.standardError)")

            // A restart finds it fenced.
            #expect(primary.stop(with: SIGTERM) == 0)
            primary = try site.startPrimary("primary")
            let restarted = try Self.put("after-restart", on: primary)
            #expect(restarted.status == 503)
            #expect(String(decoding: restarted.body, as: UTF8.self).contains(message))
            let human = try CLIProcess.run(["status", "--node", primary.url], in: directory)
            #expect(human.standardOutput.contains("fenced"), "\(human.standardOutput)")

            let unfenced = try CLIProcess.run(["unfence", "--node", primary.url, "--data", site.data("primary")], in: directory)
            #expect(unfenced.status == 0, "\(unfenced.standardError)")
            #expect(unfenced.standardOutput.contains("Unfenced"), "\(unfenced.standardOutput)")
            #expect(primary.log.contains("UNFENCED"))
            #expect(try Self.put("after-unfence", on: primary).status == 200)
            #expect(try StandbyCommandTests.client(primary.url) { try $0.status().role } == "primary")
        }
    }

    @Test("a standby that followed the promoted S1 into epoch 2, pointed at the old primary P, makes P fence itself")
    func standbyOfTheNewEpochFencesTheOldPrimary() throws {
        try withTemporaryDirectory { directory in
            let site = try Site(in: directory, keys: PromotionTests.keys("base", 3), copies: ["s1", "s2"])
            let primary = try site.startPrimary("primary")
            defer { primary.cleanUp() }
            var s2 = try site.startStandby("s2", following: primary, sourceID: "s2")
            defer { s2.cleanUp() }
            let (s1, fork) = try PromotionTests.promoteInStep(site, primary: primary)
            defer { s1.cleanUp() }
            let s1ID = try StandbyCommandTests.client(s1.url) { try $0.status().repository.sourceID.name }
            try PromotionTests.waitUntilApplied(s2, reaches: fork)
            #expect(s2.stop(with: SIGTERM) == 0)

            // S2 follows S1 into epoch 2, then is pointed back at P (a wrong PRIMARY in its settings).
            s2 = try site.startStandby("s2", following: s1, sourceID: "s2")
            try StandbyCommandTests.put(PromotionTests.keys("new-on-s1", 3), on: s1.url)
            try PromotionTests.waitUntilApplied(s2, reaches: try PromotionTests.seqno(of: s1))
            #expect(try StandbyCommandTests.client(s2.url) { try $0.status().repository.epoch } == Epoch(2))
            #expect(s2.stop(with: SIGTERM) == 0)
            #expect(try Self.put("before-fence", on: primary).status == 200, "P accepts writes until it learns of epoch 2")
            s2 = try site.startStandby("s2", following: primary, sourceID: "s2")

            let message = "fenced: epoch 2 began at seqno \(fork.next) on \(s1ID)"
            let fenced = try StandbyCommandTests.waitForStatus(of: primary) { $0.role == "fenced" }
            #expect(fenced.fenced?.message == message)
            #expect(fenced.fenced?.learnedFrom.contains("the hello of standby s2") == true, "\(fenced.fenced?.learnedFrom ?? "nil")")
            let refused = try Self.put("after-fence", on: primary)
            #expect(refused.status == 503)
            #expect(String(decoding: refused.body, as: UTF8.self).contains(message))
            let rejected = try StandbyCommandTests.waitForStatus(of: s2) { $0.replication?.lastRejection != nil }
            #expect(rejected.replication?.lastRejection?.contains(message) == true, "\(String(describing: rejected.replication))")
            #expect(primary.log.components(separatedBy: "refuses every commit from now on").count == 2, "the fence is logged once")
        }
    }

    @Test("a client presenting Understudy-Epoch 2 to the old primary fences it; the write is refused")
    func clientPresentingANewerEpochFencesTheOldPrimary() throws {
        try withTemporaryDirectory { directory in
            let site = try Site(in: directory, keys: PromotionTests.keys("base", 3), copies: [])
            let primary = try site.startPrimary("primary")
            defer { primary.cleanUp() }
            #expect(try Self.put("same-epoch", on: primary, headers: ["Understudy-Epoch": "1"]).status == 200)
            let refused = try Self.put("newer-epoch", on: primary, headers: ["Understudy-Epoch": "2"])
            #expect(refused.status == 503)
            #expect(String(decoding: refused.body, as: UTF8.self).contains("fenced: epoch 2 began at an unknown seqno on an unknown node"))
            let status = try StandbyCommandTests.client(primary.url) { try $0.status() }
            #expect(status.role == "fenced")
            #expect(status.fenced?.learnedFrom.contains("Understudy-Epoch: 2") == true)
            #expect(try Self.put("plain", on: primary).status == 503)
        }
    }
}
