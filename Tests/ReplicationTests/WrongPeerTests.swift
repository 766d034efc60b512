import Logging
import Testing
import Tranlog
import Transport

@testable import Replication

/// A `--primary` that names something else (the primary's HTTP port, another service) fails each
/// connection at once with a message saying so, instead of waiting for a challenge for ever.
@Suite struct WrongPeerTests {
    /// A peer played by the test that records raw bytes (a `ScriptedPeer` would choke on the probe).
    final class RawPeer {
        let connection: any Connection
        private(set) var received: [UInt8] = []

        init(_ connection: any Connection) {
            self.connection = connection
            connection.start(ConnectionCallbacks(onRead: { [unowned self] in received += $0 }, onClose: { _ in }))
        }

        func send(_ text: String) { _ = connection.write(Array(text.utf8)) }
    }

    /// A started receiver and the peers that accepted its connections, newest last.
    private func receiverAgainstRawPeers(_ harness: ReplicationHarness) throws -> (LogReceiver, () -> [RawPeer]) {
        var peers: [RawPeer] = []
        _ = try harness.loop.listen(host: "127.0.0.1", port: primaryPort) { peers.append(RawPeer($0)) }
        let receiver = try harness.makeReceiver()
        receiver.start()
        harness.loop.run()
        return (receiver, { peers })
    }

    @Test func anHttpServerIsProbedAfterTheChallengeTimeoutAndNamedAsSuch() throws {
        let harness = try ReplicationHarness()
        let (receiver, peers) = try receiverAgainstRawPeers(harness)
        #expect(receiver.state == .awaitingChallenge)
        #expect(peers().first?.received.isEmpty == true, "nothing is sent to a real primary before its challenge")

        harness.loop.advanceTime(by: .seconds(2))
        let http = try #require(peers().first)
        #expect(String(decoding: http.received, as: UTF8.self).hasPrefix("GET / HTTP/1.0"))
        http.send("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        harness.loop.run()
        let refusal = try #require(receiver.refusal)
        #expect(refusal.message.hasPrefix("127.0.0.1:\(primaryPort) is not an Understudy replication port (it answered like HTTP)"), "\(refusal.message)")
        #expect(receiver.state == .waitingToReconnect)
    }

    @Test func unknownBytesFailTheConnectionAtOnce() throws {
        let harness = try ReplicationHarness()
        let (receiver, peers) = try receiverAgainstRawPeers(harness)
        try #require(peers().first).send("SSH-2.0-OpenSSH_9.6\r\n")
        harness.loop.run()
        #expect(receiver.refusal?.message.contains("is not an Understudy replication port (it answered with unknown bytes)") == true)
        #expect(receiver.state == .waitingToReconnect)
    }

    /// Until the welcome proved the peer holds the key, the standby bounds messages as the primary bounds
    /// strangers' (64 KiB): a fake primary announcing a huge first message is cut before its body is read.
    @Test func aHugeMessageBeforeTheWelcomeIsCutAndLogged() throws {
        let harness = try ReplicationHarness()
        var peers: [RawPeer] = []
        _ = try harness.loop.listen(host: "127.0.0.1", port: primaryPort) { peers.append(RawPeer($0)) }
        let captured = RefusalLogTests.CapturedLog()
        let receiver = try harness.makeReceiver(logger: captured.logger)
        receiver.start()
        harness.loop.run()
        let fake = try #require(peers.first)
        _ = fake.connection.write(MessageCodec.encode(.challenge(HelloProof.makeChallenge())))
        harness.loop.run()
        #expect(receiver.state == .awaitingWelcome, "the challenge was answered with a hello")

        let announced = UInt32(ReplicationProtocol.maxMessageBytesBeforeWelcome + 1)
        _ = fake.connection.write(withUnsafeBytes(of: announced.littleEndian, Array.init) + [0, 0, 0, 0, 0])
        harness.loop.run()
        let limit = "outside 9...\(ReplicationProtocol.maxMessageBytesBeforeWelcome)"
        let refusal = try #require(receiver.refusal)
        #expect(refusal.message.contains("message length \(announced) is \(limit)"), "\(refusal.message)")
        #expect(captured.all.contains { $0.hasPrefix("closing replication connection: protocol violation") && $0.contains(limit) },
                "\(captured.all)")
        #expect(receiver.state == .waitingToReconnect)
    }

    @Test func aPeerSilentAfterTheProbeTooIsNamed() throws {
        let harness = try ReplicationHarness()
        let (receiver, _) = try receiverAgainstRawPeers(harness)
        harness.loop.advanceTime(by: .seconds(4))
        #expect(receiver.refusal?.message.contains("(it sent nothing within 4.0 seconds)") == true, "\(String(describing: receiver.refusal))")
    }

    @Test func theFirstBytesOfAChallengeAreNotMistakenForAnotherService() throws {
        let harness = try ReplicationHarness()
        var connections: [any Connection] = []
        _ = try harness.loop.listen(host: "127.0.0.1", port: primaryPort) { connections.append($0) }
        harness.loop.connect(host: "127.0.0.1", port: primaryPort) { connections.append(try! $0.get()) }
        harness.loop.run()
        func check() -> PeerCheck {
            PeerCheck(peer: "p:1", timeout: .seconds(2), loop: harness.loop, connection: connections[0]) { Issue.record("\($0)") }
        }
        let challenge = MessageCodec.encode(.challenge(HelloProof.makeChallenge()))
        let primary = check()
        for byte in challenge.prefix(7) { #expect(primary.received([byte]) == nil) }
        primary.cancel()
        let http = check()
        #expect(http.received(Array("HT".utf8)) == nil, "could still be HTTP: wait for more")
        #expect(http.received(Array("TP/1.1 400".utf8))?.answer == .http)
        http.cancel()
        harness.loop.advanceTime(by: .seconds(10))
    }

    @Test func aBaseCopyFromAnHttpPortFailsNamingIt() throws {
        let harness = try ReplicationHarness()
        var peers: [RawPeer] = []
        _ = try harness.loop.listen(host: "127.0.0.1", port: primaryPort) { peers.append(RawPeer($0)) }
        var outcome: Result<BaseCopyEnd, BaseCopyFailure>?
        let client = BaseCopyClient(
            loop: harness.loop, key: sharedKey, sourceID: standbySource,
            receipt: BaseCopyReceipt(directory: standbyDirectory.appending("data"), fileSystem: harness.standbyFileSystem),
            writesFilesOnItsOwnThread: false, logger: quietLogger
        ) { outcome = $0 }
        client.start(host: "127.0.0.1", port: primaryPort)
        harness.loop.advanceTime(by: .seconds(2))
        try #require(peers.first).send("HTTP/1.1 400 Bad Request\r\n\r\n")
        harness.loop.run()
        guard case .failure(.wrongPeer(let wrongPeer)) = outcome else {
            Issue.record("\(String(describing: outcome))")
            return
        }
        #expect(wrongPeer.answer == .http)
        #expect(BaseCopyFailure.wrongPeer(wrongPeer).isRetryable)
    }
}
