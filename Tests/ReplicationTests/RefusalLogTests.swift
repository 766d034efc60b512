import Logging
import Testing
import Tranlog
import Transport

@testable import Replication

/// A refusal that comes back on every retry is logged once, then at most once a minute, while
/// `refusal` counts it; and a refused standby backs off instead of reconnecting many times a second.
@Suite struct RefusalLogTests {
    /// The messages logged at warning level or above.
    final class CapturedLog: @unchecked Sendable {
        private let lines = Locked<[String]>([])
        var all: [String] { lines.withLock { $0 } }

        var logger: Logger {
            Logger(label: "captured") { _ in Handler(log: self) }
        }

        struct Handler: LogHandler {
            let log: CapturedLog
            var logLevel = Logger.Level.debug
            var metadata: Logger.Metadata = [:]
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }

            func log(event: LogEvent) {
                guard event.level >= .warning else { return }
                log.lines.withLock { $0.append(event.message.description) }
            }
        }
    }

    @Test func theSameMessageIsLoggedOnceThenOncePerIntervalWithItsCount() {
        var limiter = RepeatedMessageLimiter(interval: .seconds(60))
        #expect(limiter.line(for: "refused", now: .seconds(0)) == "refused")
        #expect(limiter.line(for: "refused", now: .seconds(1)) == nil)
        #expect(limiter.line(for: "refused", now: .seconds(59)) == nil)
        #expect(limiter.line(for: "refused", now: .seconds(60)) == "refused (again; 3 time(s) since it was last logged)")
        #expect(limiter.line(for: "refused", now: .seconds(61)) == nil)
        #expect(limiter.line(for: "another", now: .seconds(62)) == "another", "a different message is news")
        limiter.reset()
        #expect(limiter.line(for: "another", now: .seconds(63)) == "another")
    }

    @Test func messagesOfOneKindAreOneMessageWhateverTheirDetails() {
        var limiter = RepeatedMessageLimiter(interval: .seconds(60))
        #expect(limiter.line(for: "garbage: length 1", kind: "garbage", now: .seconds(0)) == "garbage: length 1")
        #expect(limiter.line(for: "garbage: length 2", kind: "garbage", now: .seconds(1)) == nil)
        #expect(limiter.line(for: "garbage: length 3", kind: "garbage", now: .seconds(61)) == "garbage: length 3 (again; 2 time(s) since it was last logged)")
    }

    @Test func thePrimarysRefusalLogCountsPerPeerHostAndKind() {
        let now = Locked(Duration.zero)
        let clock = ReplicationClock(monotonic: { now.withLock { $0 } }, wall: { Timestamp(rawValue: 0) })
        let refusals = PeerRefusalLog(interval: .seconds(60), clock: clock)
        let captured = CapturedLog()
        for port in 1000..<1200 {
            refusals.warn("garbage from port \(port)", kind: "garbage", peer: SocketAddress(host: "10.0.0.1", port: port), logger: captured.logger)
        }
        refusals.warn("wrong key", kind: "wrong key", peer: SocketAddress(host: "10.0.0.1", port: 1), logger: captured.logger)
        refusals.warn("garbage", kind: "garbage", peer: SocketAddress(host: "10.0.0.2", port: 1), logger: captured.logger)
        #expect(captured.all == ["garbage from port 1000", "wrong key", "garbage"], "one line per host and kind")
        now.withLock { $0 = .seconds(60) }
        refusals.warn("garbage from port 2000", kind: "garbage", peer: SocketAddress(host: "10.0.0.1", port: 2000), logger: captured.logger)
        #expect(captured.all.last == "garbage from port 2000 (again; 200 time(s) since it was last logged)")
    }

    @Test func aStandbyRefusedForAnHourLogsItOncePerMinuteAndBacksOff() throws {
        let harness = try ReplicationHarness()
        try harness.primary.commit(5)
        try harness.listen()
        let captured = CapturedLog()
        let receiver = try harness.makeReceiver(key: ReplicationKey(bytes: Array("not-the-primary's-key".utf8)), logger: captured.logger)
        receiver.start()
        harness.loop.run()
        let first = try #require(receiver.refusal)
        #expect(first.message.contains("authentication failed"))

        harness.loop.advanceTime(by: .seconds(3600))
        let refusal = try #require(receiver.refusal)
        #expect(refusal.since == first.since && refusal.message == first.message)
        // Backoff doubling from 100 ms to 30 s: about 130 attempts in an hour, not tens of thousands.
        #expect(refusal.count == harness.accepted.count)
        #expect(refusal.count < 140, "\(refusal.count) attempts in an hour")
        let refusals = captured.all.filter { $0.contains("authentication failed") }
        #expect(refusals.count >= 55 && refusals.count <= 61, "\(refusals.count) lines: \(refusals.prefix(3))")
        #expect(refusals.dropFirst().allSatisfy { $0.contains("(again;") })
        #expect(captured.all.count == refusals.count, "no other warning repeats the refusal: \(captured.all.prefix(4))")
    }

    @Test func aStandbyRefusedRightAfterTheWelcomeStillBacksOff() throws {
        let harness = try ReplicationHarness()
        var peers: [ScriptedPeer] = []
        _ = try harness.loop.listen(host: "127.0.0.1", port: primaryPort) { peers.append(ScriptedPeer($0)) }
        let receiver = try harness.makeReceiver()
        receiver.start()
        harness.loop.run()
        // Every connection: a welcome, then a file header that does not belong to this repository.
        var served = 0
        for _ in 0..<200 {
            while served < peers.count {
                let peer = peers[served]
                peer.send(.challenge(HelloProof.makeChallenge()))
                harness.loop.run()  // the hello, whose challenge the welcome signs
                peer.send(.welcome(Welcome(repositoryID: testRepository, position: LogPosition(epoch: .first, seqno: .zero), history: firstEpochHistory)))
                peer.sendBytes(MessageCodec.encode(.fileStart(header: [UInt8](repeating: 7, count: FileHeader.size))))
                served += 1
            }
            harness.loop.advanceTime(by: .milliseconds(300))
        }
        // 60 s: 100 ms doubling up to 30 s allows 10 attempts, not 600.
        #expect(peers.count <= 10, "\(peers.count) connections in a minute")
        #expect(receiver.refusal?.message.contains("refused file header") == true, "\(String(describing: receiver.refusal))")
    }
}
