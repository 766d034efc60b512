import Repository
import SystemPackage
import Testing
import Tranlog
import Transport
import UnderstudyTesting

@testable import Replication

/// The base-copy conversation on the fake transport: messages, rejects, verification, and that
/// neither side ever buffers more than the transport's high-water mark plus one chunk.
@Suite struct BaseCopyTests {
    static let stagedPath = FilePath("/primary/base-copy/staged.backup.gz")
    static let receivedPath = FilePath("/standby/base.backup")
    static let position = LogPosition(epoch: .first, seqno: Seqno(1234))

    /// A primary's staging played from memory: `stage` writes `bytes` to its disk, or refuses.
    final class FakeSource: BaseCopySource, @unchecked Sendable {
        let fileSystem = SimulatedFileSystem()
        let bytes: [UInt8]
        var refusal: RejectReason?
        private(set) var stagings = 0
        private(set) var readBytes = 0
        private(set) var discarded: [FilePath] = []

        init(byteCount: Int, refusal: RejectReason? = nil) throws {
            bytes = (0..<byteCount).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            self.refusal = refusal
            try fileSystem.createDirectory(FilePath("/primary"))
            try fileSystem.createDirectory(FilePath("/primary/base-copy"))
        }

        func stage(for standby: SourceID, completion: @escaping @Sendable (Result<StagedBackup, RejectReason>) -> Void) {
            stagings += 1
            if let refusal { return completion(.failure(refusal)) }
            try! fileSystem.writeNewFile(BaseCopyTests.stagedPath, contents: bytes[...])
            completion(.success(StagedBackup(
                path: BaseCopyTests.stagedPath, byteCount: UInt64(bytes.count), repositoryID: testRepository,
                position: BaseCopyTests.position, compressed: true)))
        }

        func read(_ backup: StagedBackup, at offset: UInt64, count: Int) throws(TranlogError) -> [UInt8] {
            readBytes += count
            return try fileSystem.read(backup.path, at: offset, count: count)
        }

        func discard(_ backup: StagedBackup) {
            discarded.append(backup.path)
            try? fileSystem.removeFile(backup.path)
        }

        var stagedFileExists: Bool { fileSystem.fileExists(BaseCopyTests.stagedPath) }
    }

    /// A primary serving base copies from `source` on the fake network, and a standby disk.
    final class Harness {
        let loop: FakeEventLoop
        let source: FakeSource
        let standbyFileSystem = SimulatedFileSystem()
        var configuration = LogShipper.Configuration()
        private(set) var accepted: [FakeConnection] = []
        private(set) var shippers: [LogShipper] = []
        private var listener: (any Listener)?

        init(byteCount: Int, refusal: RejectReason? = nil, transport: TransportConfiguration = TransportConfiguration()) throws {
            loop = FakeEventLoop(configuration: transport)
            source = try FakeSource(byteCount: byteCount, refusal: refusal)
            try standbyFileSystem.createDirectory(FilePath("/standby"))
        }

        func listen() throws {
            let primary = try PrimaryFixture()
            listener = try loop.listen(host: "127.0.0.1", port: primaryPort) { [self] connection in
                accepted.append(connection as! FakeConnection)
                let shipper = LogShipper(
                    connection: connection, loop: loop, log: primary.log, key: sharedKey, configuration: configuration,
                    baseCopySource: source, logger: quietLogger)
                shippers.append(shipper)
                shipper.start()
            }
        }

        /// Starts a client; the returned box fills in when it completes.
        func startClient(key: ReplicationKey = sharedKey) -> Outcome {
            let outcome = Outcome()
            let client = BaseCopyClient(
                loop: loop, key: key, sourceID: standbySource, file: BaseCopyTests.receivedPath, fileSystem: standbyFileSystem,
                logger: quietLogger, onProgress: { outcome.progress.append($0) }, completion: { outcome.result = $0 })
            outcome.client = client
            client.start(host: "127.0.0.1", port: primaryPort)
            return outcome
        }

        var received: [UInt8]? { standbyFileSystem.contents(of: BaseCopyTests.receivedPath) }
    }

    final class Outcome {
        var client: BaseCopyClient?
        var result: Result<BaseCopyEnd, BaseCopyFailure>?
        var progress: [BaseCopyClient.Progress] = []

        var failure: BaseCopyFailure? {
            if case .failure(let failure) = result { return failure }
            return nil
        }
    }

    // MARK: - Messages

    @Test func messagesRoundTrip() throws {
        let request = BaseCopyProof.sign(
            BaseCopyRequest(sourceID: standbySource, nonce: BaseCopyProof.makeNonce()), challenge: HelloProof.makeChallenge(), key: sharedKey)
        let end = BaseCopyProof.sign(
            BaseCopyEnd(repositoryID: testRepository, position: Self.position, byteCount: 99, crc: 0xdead_beef, digest: Array(repeating: 7, count: 32)),
            nonce: request.nonce, key: sharedKey)
        let messages: [ReplicationMessage] = [
            .baseCopyRequest(request),
            .baseCopyStart(BaseCopyStart(repositoryID: testRepository, byteCount: 1 << 40, compressed: true)),
            .baseCopyData(BaseCopyChunk(offset: 12, bytes: [1, 2, 3])),
            .baseCopyEnd(end),
            .reject(.backupInProgress(detail: "a full backup to /b is already in progress")),
            .reject(.baseCopyFailed(detail: "No space left on device")),
        ]
        for message in messages {
            var decoder = MessageDecoder()
            decoder.feed(MessageCodec.encode(message))
            #expect(try decoder.next() == message)
        }
    }

    @Test func anotherBaseCopyVersionIsReadAsForeign() throws {
        var decoder = MessageDecoder()
        decoder.feed(MessageCodec.encode(.foreignBaseCopyRequest(version: 9)))
        #expect(try decoder.next() == .foreignBaseCopyRequest(version: 9))
    }

    @Test func anEmptyChunkIsMalformed() throws {
        var writer = ByteWriter()
        writer.append(UInt32(8 + MessageCodec.envelopeBytes))
        writer.append(MessageType.baseCopyData.rawValue)
        writer.append(UInt64(0))
        writer.append(Checksum.crc32(writer.bytes))
        var decoder = MessageDecoder()
        decoder.feed(writer.bytes)
        #expect(throws: ProtocolViolation.self) { try decoder.next() }
    }

    // MARK: - Conversations

    @Test func copiesTheStagedBackupByteForByteAndDiscardsIt() throws {
        let harness = try Harness(byteCount: 700_000)
        harness.configuration.baseCopyChunkBytes = 64 * 1024
        try harness.listen()
        let outcome = harness.startClient()
        harness.loop.run()
        let end = try #require(try outcome.result?.get())
        #expect(end.repositoryID == testRepository)
        #expect(end.position == Self.position)
        #expect(end.byteCount == 700_000)
        #expect(harness.received == harness.source.bytes)
        #expect(harness.source.discarded == [Self.stagedPath])
        #expect(!harness.source.stagedFileExists)
        #expect(outcome.progress.first == BaseCopyClient.Progress(receivedBytes: 0, totalBytes: 700_000))
        #expect(outcome.progress.last == BaseCopyClient.Progress(receivedBytes: 700_000, totalBytes: 700_000))
        #expect(outcome.progress.count == 1 + 11)  // the start, then one per 64 KiB chunk
        #expect(harness.shippers.first?.status.standby == standbySource)
        // Closed, by whichever side was first.
        guard case .closed = harness.shippers.first?.status.state else { Issue.record("the primary's connection is still open"); return }
    }

    @Test func aWrongKeyIsRejectedBeforeAnythingIsStaged() throws {
        let harness = try Harness(byteCount: 1000)
        try harness.listen()
        let outcome = harness.startClient(key: ReplicationKey(bytes: Array("not-the-primary's-key".utf8)))
        harness.loop.run()
        #expect(outcome.failure == .rejected(.wrongKey))
        #expect(outcome.failure?.isRetryable == false)
        #expect(harness.source.stagings == 0)
        #expect(harness.received == nil)
    }

    @Test(arguments: [
        RejectReason.backupInProgress(detail: "a full backup to /backups/nightly is already in progress"),
        RejectReason.baseCopyFailed(detail: "cannot write /primary/base-copy/x: No space left on device"),
    ])
    func aPrimaryThatCannotStageRejectsWithItsReason(_ reason: RejectReason) throws {
        let harness = try Harness(byteCount: 1000, refusal: reason)
        try harness.listen()
        let outcome = harness.startClient()
        harness.loop.run()
        #expect(outcome.failure == .rejected(reason))
        #expect(outcome.failure?.isRetryable == true)
        #expect(harness.shippers.first?.status.rejection == reason)
        #expect(harness.received == nil)
    }

    @Test func anotherBaseCopyVersionIsRefusedNamingBoth() throws {
        let harness = try Harness(byteCount: 1000)
        try harness.listen()
        var peer: ScriptedPeer?
        harness.loop.connect(host: "127.0.0.1", port: primaryPort) { peer = ScriptedPeer(try! $0.get()) }
        harness.loop.run()
        let standby = try #require(peer)
        standby.send(.foreignBaseCopyRequest(version: 7))
        harness.loop.run()
        #expect(standby.messages.last == .reject(.protocolVersion(primary: BaseCopyProtocol.version, standby: 7)))
        #expect(standby.closeReason != nil)
        #expect(harness.source.stagings == 0)
    }

    @Test func aSlowStandbyPinsAtMostTheHighWaterMarkPlusOneChunk() throws {
        var transport = TransportConfiguration()
        transport.writeHighWaterBytes = 256 * 1024
        transport.writeLowWaterBytes = 64 * 1024
        let harness = try Harness(byteCount: 4 * 1024 * 1024, transport: transport)
        let chunk = 32 * 1024
        harness.configuration.baseCopyChunkBytes = chunk
        try harness.listen()
        var peer: ScriptedPeer?
        harness.loop.connect(host: "127.0.0.1", port: primaryPort) { peer = ScriptedPeer(try! $0.get()) }
        harness.loop.run()
        let standby = try #require(peer)
        guard case .challenge(let challenge) = standby.messages.first else { Issue.record("no challenge"); return }
        standby.send(.baseCopyRequest(BaseCopyProof.sign(
            BaseCopyRequest(sourceID: standbySource, nonce: BaseCopyProof.makeNonce()), challenge: challenge, key: sharedKey)))
        standby.connection.pauseReading()
        harness.loop.run()
        #expect(harness.shippers.first?.status.state == .sendingBaseCopy)
        let primarySide = try #require(harness.accepted.first)
        let bound = transport.writeHighWaterBytes + chunk + 64
        #expect(primarySide.queuedWriteBytes > 0)
        #expect(primarySide.queuedWriteBytes <= bound)
        #expect(harness.source.readBytes <= bound)
        #expect(!primarySide.isWritable)

        standby.connection.resumeReading()
        harness.loop.run()
        let data = standby.messages.compactMap { message -> [UInt8]? in
            if case .baseCopyData(let chunk) = message { return chunk.bytes }
            return nil
        }
        #expect(data.joined().elementsEqual(harness.source.bytes))
        guard case .baseCopyEnd = standby.messages.last else { Issue.record("no end message"); return }
    }

    @Test func aConnectionLostMidwayRemovesTheFilesOnBothSides() throws {
        let harness = try Harness(byteCount: 100_000)
        harness.configuration.baseCopyChunkBytes = 10_000
        harness.configuration.baseCopyChunkDelay = .milliseconds(100)
        try harness.listen()
        let outcome = harness.startClient()
        harness.loop.run()
        harness.loop.advanceTime(by: .milliseconds(250))
        #expect(harness.received?.count == 30_000)
        #expect(outcome.result == nil)
        harness.accepted.first?.injectReset()
        harness.loop.run()
        guard case .connectionLost(_, let received, let total) = outcome.failure else {
            Issue.record("expected a lost connection, got \(String(describing: outcome.result))")
            return
        }
        #expect(received == 30_000)
        #expect(total == 100_000)
        #expect(outcome.failure?.isRetryable == true)
        #expect(harness.received == nil)
        #expect(!harness.source.stagedFileExists)
    }

    /// A primary that stops sending mid-copy without closing (a partition: TCP half-open) is given up
    /// on after a minute of silence, and the copy is retried like any lost connection.
    @Test func chunksStoppingForAMinuteFailTheCopyAsLost() throws {
        let harness = try Harness(byteCount: 100_000)
        harness.configuration.baseCopyChunkBytes = 10_000
        harness.configuration.baseCopyChunkDelay = .seconds(3600)
        try harness.listen()
        let outcome = harness.startClient()
        harness.loop.run()
        #expect(harness.received?.count == 10_000)
        harness.loop.advanceTime(by: .seconds(50))
        #expect(outcome.result == nil)
        harness.loop.advanceTime(by: .seconds(11))
        guard case .connectionLost(let why, let received, _) = outcome.failure else {
            Issue.record("expected a lost connection, got \(String(describing: outcome.result))")
            return
        }
        #expect(why.contains("presumed dead"), "\(why)")
        #expect(received == 10_000)
        #expect(outcome.failure?.isRetryable == true)
        #expect(harness.received == nil)
    }

    @Test func aFullStandbyDiskFailsTheCopyAndRemovesThePartialFile() throws {
        let harness = try Harness(byteCount: 200_000)
        harness.configuration.baseCopyChunkBytes = 50_000
        harness.standbyFileSystem.limitFreeSpace(to: 120_000)
        try harness.listen()
        let outcome = harness.startClient()
        harness.loop.run()
        guard case .storage = outcome.failure else { Issue.record("expected a storage failure, got \(String(describing: outcome.result))"); return }
        #expect(outcome.failure?.isRetryable == false)
        #expect(harness.received == nil)
        #expect(!harness.source.stagedFileExists)
    }

    /// A primary played by the test: the end's proof, size or digest must match, or nothing is accepted.
    @Test(arguments: ["proof", "digest", "size"])
    func anEndThatDoesNotMatchWhatWasReceivedFailsVerification(_ tampered: String) throws {
        let harness = try Harness(byteCount: 0)
        var accepted: ScriptedPeer?
        let listener = try harness.loop.listen(host: "127.0.0.1", port: primaryPort) { accepted = ScriptedPeer($0) }
        defer { listener.close() }
        let outcome = harness.startClient()
        harness.loop.run()
        let primary = try #require(accepted)
        let challenge = HelloProof.makeChallenge()
        primary.send(.challenge(challenge))
        harness.loop.run()
        guard case .baseCopyRequest(let request) = primary.messages.first else { Issue.record("no request"); return }
        #expect(BaseCopyProof.verify(request, challenge: challenge, key: sharedKey))
        let bytes: [UInt8] = Array(repeating: 42, count: 5000)
        var digest = BaseCopyDigest()
        digest.update(bytes)
        primary.send(.baseCopyStart(BaseCopyStart(repositoryID: testRepository, byteCount: 5000, compressed: false)))
        primary.send(.baseCopyData(BaseCopyChunk(offset: 0, bytes: bytes)))
        var end = BaseCopyEnd(
            repositoryID: testRepository, position: Self.position, byteCount: 5000, crc: digest.crc, digest: digest.finalize())
        switch tampered {
        case "digest": end.digest[0] ^= 1
        case "size": end.byteCount = 4999
        default: break
        }
        let signingKey = tampered == "proof" ? ReplicationKey(bytes: Array("a-man-in-the-middle-key".utf8)) : sharedKey
        primary.send(.baseCopyEnd(BaseCopyProof.sign(end, nonce: request.nonce, key: signingKey)))
        harness.loop.run()
        guard case .verification = outcome.failure else { Issue.record("expected a verification failure, got \(String(describing: outcome.result))"); return }
        #expect(harness.received == nil)
    }
}
