import Repository
import SystemPackage
import Testing
import Tranlog
import Transport
import UnderstudyTesting

@testable import Replication

/// The base-copy conversation on the fake transport: messages, rejects, verification, resume, and
/// that neither side ever buffers more than the transport's high-water mark plus one chunk.
@Suite struct BaseCopyTests {
    static let directory = FilePath("/standby/data")
    static let position = LogPosition(epoch: .first, seqno: Seqno(1234))

    /// A primary's pinned files played from memory: a big extent, an empty file and a small one.
    final class FakeSource: BaseCopySource, @unchecked Sendable {
        let files: [BaseCopyFile]
        let contents: [[UInt8]]
        var refusal: RejectReason?
        /// Pins held, by id (a restarted primary holds none).
        private(set) var held: [[UInt8]: BaseCopyPin] = [:]
        /// New pins made (a resume takes back a held one).
        private(set) var pinsTaken = 0
        private(set) var readBytes = 0
        private(set) var released: [(id: [UInt8], completed: Bool)] = []

        init(byteCount: Int, refusal: RejectReason? = nil) {
            let big = (0..<byteCount).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            contents = [Array("{\"repository\":1}".utf8), big, [], Array("tail!".utf8)]
            files = zip(["understudy.json", "extents/extent-000001.dbf", "extents/empty", "tranlogs/tranlog1.dbf"], contents).map {
                BaseCopyFile(path: $0, size: UInt64($1.count))
            }
            self.refusal = refusal
        }

        var byteCount: UInt64 { files.reduce(0) { $0 + $1.size } }

        func pin(for standby: SourceID, resuming: [UInt8]?) -> Result<BaseCopyPin, RejectReason> {
            if let refusal { return .failure(refusal) }
            if let resuming, let pin = held[resuming] { return .success(pin) }
            pinsTaken += 1
            let pin = BaseCopyPin(id: BaseCopyProof.makePinID(), repositoryID: testRepository, position: BaseCopyTests.position, files: files)
            held[pin.id] = pin
            return .success(pin)
        }

        func read(_ pin: BaseCopyPin, file index: Int, at offset: UInt64, count: Int) throws(TranlogError) -> [UInt8] {
            readBytes += count
            return Array(contents[index].dropFirst(Int(offset)).prefix(count))
        }

        func release(_ pin: BaseCopyPin, completed: Bool) {
            released.append((pin.id, completed))
            if completed { held[pin.id] = nil }
        }

        /// The primary restarted: its pins are gone.
        func forgetPins() { held = [:] }
    }

    /// A primary serving base copies from `source` on the fake network, and a standby disk.
    final class Harness {
        let loop: FakeEventLoop
        let source: FakeSource
        let standbyFileSystem = SimulatedFileSystem()
        let receipt: BaseCopyReceipt
        var configuration = LogShipper.Configuration()
        private(set) var accepted: [FakeConnection] = []
        private(set) var shippers: [LogShipper] = []
        private var listener: (any Listener)?

        init(byteCount: Int, refusal: RejectReason? = nil, transport: TransportConfiguration = TransportConfiguration()) throws {
            loop = FakeEventLoop(configuration: transport)
            source = FakeSource(byteCount: byteCount, refusal: refusal)
            configuration.readsFilesOnItsOwnThread = false  // the fake loop's thread is the test's
            try standbyFileSystem.createDirectory(FilePath("/standby"))
            receipt = BaseCopyReceipt(directory: BaseCopyTests.directory, fileSystem: standbyFileSystem)
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

        /// Starts a client on `receipt`; the returned box fills in when it completes.
        func startClient(key: ReplicationKey = sharedKey) -> Outcome {
            let outcome = Outcome()
            let client = BaseCopyClient(
                loop: loop, key: key, sourceID: standbySource, receipt: receipt, writesFilesOnItsOwnThread: false,
                logger: quietLogger, onProgress: { outcome.progress.append($0) }, completion: { outcome.result = $0 })
            outcome.client = client
            client.start(host: "127.0.0.1", port: primaryPort)
            return outcome
        }

        /// The standby's copy of file `index`, nil when absent.
        func received(_ index: Int) -> [UInt8]? {
            standbyFileSystem.contents(of: BaseCopyTests.directory.appending(source.files[index].path))
        }

        /// Every file arrived whole and equal.
        var receivedEverything: Bool {
            source.contents.indices.allSatisfy { received($0) == source.contents[$0] }
        }
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
        let resuming = BaseCopyProof.sign(
            BaseCopyRequest(sourceID: standbySource, nonce: BaseCopyProof.makeNonce(), resume: BaseCopyResume(pinID: BaseCopyProof.makePinID(), held: [1, 0, 1 << 40])),
            challenge: HelloProof.makeChallenge(), key: sharedKey)
        let files = [BaseCopyFile(path: "extents/MANIFEST", size: 1 << 40), BaseCopyFile(path: "epochs", size: 0)]
        let end = BaseCopyProof.sign(
            BaseCopyEnd(repositoryID: testRepository, position: Self.position, pinID: BaseCopyProof.makePinID(), digests: [Array(repeating: 7, count: 32), Array(repeating: 8, count: 32)]),
            files: files, nonce: request.nonce, key: sharedKey)
        let messages: [ReplicationMessage] = [
            .baseCopyRequest(request),
            .baseCopyRequest(resuming),
            .baseCopyStart(BaseCopyStart(repositoryID: testRepository, pinID: BaseCopyProof.makePinID(), files: files)),
            .baseCopyData(BaseCopyChunk(file: 1, offset: 12, bytes: [1, 2, 3])),
            .baseCopyEnd(end),
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
        writer.append(UInt32(16 + MessageCodec.envelopeBytes))
        writer.append(MessageType.baseCopyData.rawValue)
        writer.append(UInt32(0))
        writer.append(UInt64(0))
        writer.append(UInt32(0))
        writer.append(Checksum.crc32(writer.bytes))
        var decoder = MessageDecoder()
        decoder.feed(writer.bytes)
        #expect(throws: ProtocolViolation.self) { try decoder.next() }
    }

    /// A start naming a file outside the standby's directory is refused before anything is written.
    @Test(arguments: ["../escape", "/etc/passwd", "extents/../../x", "extents//x", ""])
    func aFilePathOutsideTheDirectoryIsMalformed(_ path: String) throws {
        var decoder = MessageDecoder()
        decoder.feed(MessageCodec.encode(.baseCopyStart(BaseCopyStart(
            repositoryID: testRepository, pinID: BaseCopyProof.makePinID(), files: [BaseCopyFile(path: path, size: 1)]))))
        #expect(throws: ProtocolViolation.self) { try decoder.next() }
    }

    // MARK: - Conversations

    @Test func copiesThePinnedFilesByteForByteAndReleasesThePin() throws {
        let harness = try Harness(byteCount: 700_000)
        harness.configuration.baseCopyChunkBytes = 64 * 1024
        try harness.listen()
        let outcome = harness.startClient()
        harness.loop.run()
        let end = try #require(try outcome.result?.get())
        #expect(end.repositoryID == testRepository)
        #expect(end.position == Self.position)
        #expect(end.digests.count == 4)
        #expect(harness.receivedEverything)
        #expect(harness.source.released.map(\.completed) == [true])
        #expect(harness.source.held.isEmpty)
        let total = harness.source.byteCount
        #expect(outcome.progress.first == BaseCopyClient.Progress(receivedBytes: 0, totalBytes: total))
        #expect(outcome.progress.last == BaseCopyClient.Progress(receivedBytes: total, totalBytes: total))
        #expect(outcome.progress.count == 1 + 1 + 11 + 1)  // the start, understudy.json, 11 chunks of 64 KiB, the tranlog
        #expect(harness.shippers.first?.status.standby == standbySource)
        // Closed, by whichever side was first.
        guard case .closed = harness.shippers.first?.status.state else { Issue.record("the primary's connection is still open"); return }
    }

    @Test func aWrongKeyIsRejectedBeforeAnythingIsPinned() throws {
        let harness = try Harness(byteCount: 1000)
        try harness.listen()
        let outcome = harness.startClient(key: ReplicationKey(bytes: Array("not-the-primary's-key".utf8)))
        harness.loop.run()
        #expect(outcome.failure == .rejected(.wrongKey))
        #expect(outcome.failure?.isRetryable == false)
        #expect(harness.source.pinsTaken == 0)
        #expect(harness.received(0) == nil)
    }

    @Test func aPrimaryThatCannotPinRejectsWithItsReason() throws {
        let reason = RejectReason.baseCopyFailed(detail: "cannot pin a checkpoint: cannot list /primary/extents")
        let harness = try Harness(byteCount: 1000, refusal: reason)
        try harness.listen()
        let outcome = harness.startClient()
        harness.loop.run()
        #expect(outcome.failure == .rejected(reason))
        #expect(outcome.failure?.isRetryable == true)
        #expect(harness.shippers.first?.status.rejection == reason)
        #expect(harness.received(0) == nil)
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
        #expect(harness.source.pinsTaken == 0)
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
            if case .baseCopyData(let chunk) = message, chunk.file == 1 { return chunk.bytes }
            return nil
        }
        #expect(data.joined().elementsEqual(harness.source.contents[1]))
        guard case .baseCopyEnd = standby.messages.last else { Issue.record("no end message"); return }
    }

    /// A copy of 100,000 bytes in chunks of 10,000, one every 100 ms, whose connection is reset after
    /// 250 ms, before it finished.
    private static func copyCutMidway() throws -> (Harness, Outcome) {
        let harness = try Harness(byteCount: 100_000)
        harness.configuration.baseCopyChunkBytes = 10_000
        harness.configuration.baseCopyChunkDelay = .milliseconds(100)
        try harness.listen()
        let first = harness.startClient()
        harness.loop.run()
        harness.loop.advanceTime(by: .milliseconds(250))
        #expect(first.result == nil, "still copying when cut")
        harness.accepted.first?.injectReset()
        harness.loop.run()
        return (harness, first)
    }

    /// Cut after 30,000 bytes: the primary keeps the pin, the standby keeps its bytes, and the next
    /// attempt gets only the rest — then the files are whole and the pin released.
    @Test func aCutCopyResumesFromTheBytesHeld() throws {
        let (harness, first) = try Self.copyCutMidway()
        guard case .connectionLost(_, let received, let total) = first.failure else {
            Issue.record("expected a lost connection, got \(String(describing: first.result))")
            return
        }
        let held = harness.receipt.held.reduce(0, +)
        #expect(received == held && held > 0 && held < harness.source.byteCount)
        #expect(total == harness.source.byteCount)
        #expect(harness.source.released.map(\.completed) == [false])
        #expect(harness.source.held.count == 1, "the pin waits for a resume")

        harness.configuration.baseCopyChunkDelay = nil
        let second = harness.startClient()
        harness.loop.run()
        #expect(try second.result?.get() != nil)
        #expect(harness.source.pinsTaken == 1, "the second attempt resumed the first pin")
        #expect(second.progress.first?.receivedBytes == held, "it started from the bytes held")
        let sentAgain = (second.progress.last?.receivedBytes ?? 0) - held
        #expect(sentAgain == harness.source.byteCount - held && sentAgain < harness.source.byteCount)
        #expect(harness.receivedEverything)
        #expect(harness.source.held.isEmpty && harness.source.released.last?.completed == true)
    }

    /// A primary that restarted holds no pin: the standby's resume gets a new copy, from the first byte.
    @Test func aResumeOfAPinNoLongerHeldStartsOver() throws {
        let (harness, first) = try Self.copyCutMidway()
        #expect(first.failure?.isRetryable == true)
        let firstPin = try #require(harness.receipt.start?.pinID)
        harness.source.forgetPins()

        harness.configuration.baseCopyChunkDelay = nil
        let second = harness.startClient()
        harness.loop.run()
        #expect(try second.result?.get() != nil)
        #expect(harness.source.pinsTaken == 2)
        #expect(harness.receipt.start?.pinID != firstPin)
        #expect(second.progress.first?.receivedBytes == 0)
        #expect(harness.receivedEverything)
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
        harness.loop.advanceTime(by: .seconds(50))
        #expect(outcome.result == nil)
        harness.loop.advanceTime(by: .seconds(11))
        guard case .connectionLost(let why, let received, _) = outcome.failure else {
            Issue.record("expected a lost connection, got \(String(describing: outcome.result))")
            return
        }
        #expect(why.contains("presumed dead"), "\(why)")
        #expect(received == harness.receipt.held.reduce(0, +))
        #expect(outcome.failure?.isRetryable == true)
    }

    @Test func aFullStandbyDiskFailsTheCopy() throws {
        let harness = try Harness(byteCount: 200_000)
        harness.configuration.baseCopyChunkBytes = 50_000
        harness.standbyFileSystem.limitFreeSpace(to: 120_000)
        try harness.listen()
        let outcome = harness.startClient()
        harness.loop.run()
        guard case .storage(let why) = outcome.failure else { Issue.record("expected a storage failure, got \(String(describing: outcome.result))"); return }
        #expect(why.contains("extent-000001.dbf"), "\(why)")
        #expect(outcome.failure?.isRetryable == false)
    }

    /// A primary played by the test, for what a real one never sends.
    private func scriptedPrimary(_ harness: Harness) throws -> (ScriptedPeer, BaseCopyRequest, Outcome, any Listener) {
        var accepted: ScriptedPeer?
        let listener = try harness.loop.listen(host: "127.0.0.1", port: primaryPort) { accepted = ScriptedPeer($0) }
        let outcome = harness.startClient()
        harness.loop.run()
        let primary = try #require(accepted)
        let challenge = HelloProof.makeChallenge()
        primary.send(.challenge(challenge))
        harness.loop.run()
        guard case .baseCopyRequest(let request) = primary.messages.first else { throw TestFailure("no request") }
        #expect(BaseCopyProof.verify(request, challenge: challenge, key: sharedKey))
        return (primary, request, outcome, listener)
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// One byte changed on the way: its chunk's CRC no longer matches, and the error names the file.
    @Test func aDamagedChunkIsRefusedNamingItsFile() throws {
        let harness = try Harness(byteCount: 0)
        let (primary, _, outcome, listener) = try scriptedPrimary(harness)
        defer { listener.close() }
        let files = [BaseCopyFile(path: "extents/extent-000007.dbf", size: 5000)]
        primary.send(.baseCopyStart(BaseCopyStart(repositoryID: testRepository, pinID: BaseCopyProof.makePinID(), files: files)))
        var chunk = BaseCopyChunk(file: 0, offset: 0, bytes: Array(repeating: 42, count: 5000))
        chunk.bytes[1234] ^= 0x10
        primary.send(.baseCopyData(chunk))
        harness.loop.run()
        guard case .verification(let why) = outcome.failure else { Issue.record("expected a verification failure, got \(String(describing: outcome.result))"); return }
        #expect(why.contains("extents/extent-000007.dbf") && why.contains("CRC"), "\(why)")
        #expect(outcome.failure?.isRetryable == false)
    }

    /// The end's proof, a file's digest or its size must match, or nothing is accepted.
    @Test(arguments: ["proof", "digest", "size"])
    func anEndThatDoesNotMatchWhatWasReceivedFailsVerification(_ tampered: String) throws {
        let harness = try Harness(byteCount: 0)
        let (primary, request, outcome, listener) = try scriptedPrimary(harness)
        defer { listener.close() }
        let bytes: [UInt8] = Array(repeating: 42, count: 5000)
        var digest = BaseCopyDigest()
        digest.update(bytes)
        let files = [BaseCopyFile(path: "epochs", size: tampered == "size" ? 5001 : 5000)]
        let pinID = BaseCopyProof.makePinID()
        primary.send(.baseCopyStart(BaseCopyStart(repositoryID: testRepository, pinID: pinID, files: files)))
        primary.send(.baseCopyData(BaseCopyChunk(file: 0, offset: 0, bytes: bytes)))
        var end = BaseCopyEnd(repositoryID: testRepository, position: Self.position, pinID: pinID, digests: [digest.finalize()])
        if tampered == "digest" { end.digests[0][0] ^= 1 }
        let signingKey = tampered == "proof" ? ReplicationKey(bytes: Array("a-man-in-the-middle-key".utf8)) : sharedKey
        primary.send(.baseCopyEnd(BaseCopyProof.sign(end, files: files, nonce: request.nonce, key: signingKey)))
        harness.loop.run()
        guard case .verification(let why) = outcome.failure else { Issue.record("expected a verification failure, got \(String(describing: outcome.result))"); return }
        if tampered != "proof" { #expect(why.contains("epochs"), "\(why)") }
    }
}
