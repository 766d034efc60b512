import Foundation
import Logging
import Testing
import Repository
import SystemPackage
import Tranlog
import Transport
import UnderstudyTesting

@testable import Replication

let primaryDirectory = FilePath("/primary/tranlogs")
let standbyDirectory = FilePath("/standby/tranlogs")
let testRepository = RepositoryID("6f1c3e2a-9b1d-4c55-8e0f-2a7b9c4d1e01")!
let otherRepository = RepositoryID("0b5d7f3e-1111-4a2b-9c3d-5e6f7a8b9c0d")!
let primarySource = SourceID("primary-1")!
let standbySource = SourceID("standby-1")!
let sharedKey = ReplicationKey(bytes: Array("a-shared-replication-key-for-tests".utf8))
let primaryPort = 7_000
let startOfTime = Timestamp(iso8601: "2026-11-22T03:00:00Z")!
let firstEpochHistory = EpochHistory(
    first: EpochEntry(epoch: .first, startSeqno: Seqno(1), parentEpoch: .none, time: startOfTime, sourceID: primarySource))
let quietLogger = Logger(label: "replication-tests") { _ in SwiftLogNoOpLogHandler() }

/// A settable clock: commit times and heartbeat times the tests choose.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = startOfTime

    var now: Timestamp { lock.withLock { current } }

    func advance(seconds: Double) {
        lock.withLock { current = Timestamp(rawValue: current.rawValue + Int64(seconds * 1_000_000)) }
    }
}

/// A primary's tranlog, written by the real writer on a simulated disk, rotating every few records.
final class PrimaryFixture {
    let fileSystem = SimulatedFileSystem()
    let clock = TestClock()
    private let configuration: TranlogWriterConfiguration
    private(set) var writer: TranlogWriter
    private var lastRecord: AppendedRecord?
    var history = firstEpochHistory
    /// The newer epochs standbys revealed, in order: each fenced this primary.
    private(set) var fences: [NewerEpoch] = []
    /// What the fixture's heartbeats carry as the primary's content digest (tests set it).
    var digest = PositionedDigest(seqno: .zero, value: .empty)
    /// The writer's in-memory frames the shippers read first (nil: they read files only).
    let recentFrames: RecentFrames?

    /// `recentFramesBytes`: how much of the newest log the writer keeps in memory for shipping; 0
    /// keeps none, so every frame is read from the files.
    init(rotationBytes: Int = 4096, preallocating: Bool = false, recentFramesBytes: Int = 16 << 20) throws {
        recentFrames = recentFramesBytes > 0 ? RecentFrames(capacityBytes: recentFramesBytes) : nil
        try fileSystem.createDirectory(primaryDirectory)
        var configuration = TranlogWriterConfiguration(directory: primaryDirectory, repositoryID: testRepository, sourceID: primarySource)
        configuration.rotationBytes = rotationBytes
        configuration.preallocatesSegments = preallocating
        let clock = clock
        configuration.clock = { clock.now }
        self.configuration = configuration
        writer = try TranlogWriter(configuration: configuration, fileSystem: fileSystem, startIfEmpty: .newRepository)
        recentFrames.map(writer.keepRecentFrames)
    }

    /// What a promote does: the current file ends at the restore point (no fileEnd) and the next epoch
    /// starts in a file numbered above a skipped one, its header chained to the last record.
    func beginEpoch() throws {
        let last = try #require(lastRecord)
        let fileID = writer.currentFileID
        try writer.close()
        let next = history.current.epoch.next
        let start = ChainStart(fileID: FileID(fileID.rawValue + 2), epoch: next, previousLastSeqno: last.seqno, previousLastRecordCRC: last.crc)
        writer = try TranlogWriter.beginningEpoch(start, parent: history.current.epoch, configuration: configuration, fileSystem: fileSystem).writer
        recentFrames.map(writer.keepRecentFrames)
        try history.append(EpochEntry(epoch: next, startSeqno: last.seqno.next, parentEpoch: history.current.epoch, time: clock.now, sourceID: primarySource))
    }

    deinit { try? writer.close() }

    /// Appends `count` commits, each durable before the next; returns the last.
    @discardableResult
    func commit(_ count: Int, valueBytes: Int = 100) throws -> AppendedRecord {
        var last: AppendedRecord?
        for index in 0..<count {
            let value = Array(repeating: UInt8(truncatingIfNeeded: index), count: valueBytes)
            last = try writer.appendAndWait(.commit([.put(key: Array("key-\(index % 37)".utf8), value: value)]))
        }
        lastRecord = last
        return last!
    }

    var lastSeqno: Seqno { writer.lastDurableSeqno }

    /// What the node does with a newer epoch, minus the file: records it and answers with the fence.
    func fence(_ newer: NewerEpoch) -> Result<FenceState, RepositoryError> {
        fences.append(newer)
        return .success(FenceState(
            epoch: newer.epoch, seqno: newer.seqno, node: newer.node, learnedFrom: newer.learnedFrom, since: clock.now,
            acknowledgedThrough: lastSeqno))
    }

    var log: PrimaryLog {
        var log = PrimaryLog(
            directory: primaryDirectory, fileSystem: fileSystem, repositoryID: testRepository, history: { self.history },
            durableSeqno: { self.writer.lastDurableSeqno }, digest: { self.digest }, clock: { self.clock.now },
            fence: { newer, done in done(self.fence(newer)) })
        log.recentFrames = recentFrames
        return log
    }

    var files: [String: [UInt8]] { tranlogFiles(in: fileSystem, at: primaryDirectory) }
}

/// The data of each tranlog file: the zero tail the newest file may have (FORMATS; the primary's
/// writer and the mirror writer keep one ahead of their data) is not part of it.
func tranlogFiles(in fileSystem: SimulatedFileSystem, at directory: FilePath) -> [String: [UInt8]] {
    let names = (try? fileSystem.contentsOfDirectory(directory)) ?? []
    var files = Dictionary(uniqueKeysWithValues: names.filter { FileID(fileName: $0) != nil }.map { ($0, fileSystem.contents(of: directory.appending($0))!) })
    if let newest = files.keys.max(by: { FileID(fileName: $0)! < FileID(fileName: $1)! }) {
        let ref = TranlogFileRef(fileID: FileID(fileName: newest)!, path: directory.appending(newest))
        var cursor = TranlogCursor(directory: TranlogDirectory(description: directory.string, files: [ref]), fileSystem: fileSystem)
        while (try? cursor.next()) != nil {}
        files[newest] = Array(files[newest]!.prefix(Int(cursor.endOfLastRecord)))
    }
    return files
}

/// Expects two sets of tranlog files to be byte-identical, naming the first difference (not printing
/// megabytes of bytes).
func expectIdentical(_ standby: [String: [UInt8]], _ primary: [String: [UInt8]], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(standby.keys.sorted() == primary.keys.sorted(), sourceLocation: sourceLocation)
    for (name, bytes) in primary {
        guard let copy = standby[name], copy != bytes else { continue }
        let offset = zip(copy, bytes).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(copy.count, bytes.count)
        Issue.record("\(name) differs at offset \(offset) (standby \(copy.count) bytes, primary \(bytes.count))", sourceLocation: sourceLocation)
    }
}

/// A fake network with a primary that runs a shipper per accepted connection, and a standby disk.
final class ReplicationHarness {
    let loop: FakeEventLoop
    let primary: PrimaryFixture
    let standbyFileSystem = SimulatedFileSystem()
    var shipperConfiguration = {
        var configuration = LogShipper.Configuration()
        configuration.readsFilesOnItsOwnThread = false  // the fake loop's thread is the test's
        return configuration
    }()
    private(set) var shippers: [LogShipper] = []
    private(set) var accepted: [FakeConnection] = []
    private var listener: (any Listener)?

    init(
        transport: TransportConfiguration = TransportConfiguration(), rotationBytes: Int = 4096, preallocating: Bool = false,
        recentFramesBytes: Int = 16 << 20
    ) throws {
        loop = FakeEventLoop(configuration: transport)
        primary = try PrimaryFixture(rotationBytes: rotationBytes, preallocating: preallocating, recentFramesBytes: recentFramesBytes)
        try standbyFileSystem.createDirectory(standbyDirectory)
    }

    /// Starts accepting standbys on `primaryPort`, with `key` (two during a rotation).
    func listen(key: ReplicationKey = sharedKey) throws {
        listener = try loop.listen(host: "127.0.0.1", port: primaryPort) { [self] connection in
            accepted.append(connection as! FakeConnection)
            let shipper = LogShipper(
                connection: connection, loop: loop, log: primary.log, key: key, configuration: shipperConfiguration,
                logger: quietLogger)
            shippers.append(shipper)
            shipper.start()
        }
    }

    /// The primary's process is gone: connecting fails from now on.
    func stopListening() {
        listener?.close()
        listener = nil
    }

    func makeReceiver(
        key: ReplicationKey = sharedKey, repositoryID: RepositoryID = testRepository, history: EpochHistory = firstEpochHistory,
        restoredTo: AppliedPosition = .empty, onFlushed: @escaping (Seqno) -> Void = { _ in },
        onFault: @escaping (ReceiverFault) -> Void = { _ in }, onHeartbeat: @escaping (Heartbeat) -> Void = { _ in },
        beforeSync: @escaping ([MirroredFrames]) -> Void = { _ in }, onMirrored: @escaping @Sendable ([MirroredFrames]) -> Void = { _ in },
        mirrorWriterThread: Bool = false, logger: Logger = quietLogger
    ) throws -> LogReceiver {
        var configuration = LogReceiver.Configuration(
            primaryHost: "127.0.0.1", primaryPort: primaryPort, repositoryID: repositoryID, sourceID: standbySource)
        configuration.heartbeatInterval = shipperConfiguration.heartbeatInterval
        configuration.clock = clock
        // The fake loop's thread is the test's: the writer drains as loop work unless a test wants its thread.
        configuration.writesMirrorOnItsOwnThread = mirrorWriterThread
        return try LogReceiver(
            loop: loop, directory: standbyDirectory, fileSystem: standbyFileSystem, key: key, configuration: configuration,
            history: { history }, restoredTo: restoredTo, logger: logger, onFlushed: onFlushed, onFault: onFault,
            onHeartbeat: onHeartbeat, beforeSync: beforeSync, onMirrored: onMirrored)
    }

    var standbyFiles: [String: [UInt8]] { tranlogFiles(in: standbyFileSystem, at: standbyDirectory) }

    /// The fake loop's time, and the primary's clock as the standby's wall clock (one machine).
    var clock: ReplicationClock {
        ReplicationClock(monotonic: { [loop] in loop.now }, wall: { [clock = primary.clock] in clock.now })
    }

    /// A standby played by the test, connected to the listening primary (it has the challenge).
    func scriptedStandby() throws -> ScriptedPeer {
        var peer: ScriptedPeer?
        loop.connect(host: "127.0.0.1", port: primaryPort) { peer = ScriptedPeer(try! $0.get()) }
        loop.run()
        return try #require(peer)
    }

    /// A started receiver connected to a primary played by the test (instead of shippers).
    func receiverWithScriptedPrimary(
        history: EpochHistory = firstEpochHistory, mirrorWriterThread: Bool = false
    ) throws -> (LogReceiver, ScriptedPeer) {
        var accepted: ScriptedPeer?
        listener = try loop.listen(host: "127.0.0.1", port: primaryPort) { accepted = ScriptedPeer($0) }
        let receiver = try makeReceiver(history: history, mirrorWriterThread: mirrorWriterThread)
        receiver.start()
        loop.run()
        return (receiver, try #require(accepted))
    }
}

/// One end of a connection driven by the test: it sends chosen bytes and records what it receives,
/// to play a misbehaving primary or standby.
final class ScriptedPeer {
    let connection: FakeConnection
    private var decoder = MessageDecoder()
    private(set) var messages: [ReplicationMessage] = []
    private(set) var closeReason: CloseReason?

    init(_ connection: any Connection) {
        self.connection = connection as! FakeConnection
        self.connection.start(
            ConnectionCallbacks(
                onRead: { [unowned self] bytes in
                    decoder.feed(bytes)
                    while let message = try! decoder.next() { messages.append(message) }
                },
                onClose: { [unowned self] in closeReason = $0 }))
    }

    /// Sends `message`; a welcome without a proof is signed for the last hello's challenge with
    /// `key`, as a primary holding it does.
    func send(_ message: ReplicationMessage, key: ReplicationKey = sharedKey) {
        guard case .welcome(let welcome) = message, welcome.proof.isEmpty else { return sendBytes(MessageCodec.encode(message)) }
        sendBytes(MessageCodec.encode(.welcome(WelcomeProof.sign(welcome, challenge: lastHelloChallenge, key: key))))
    }

    private var lastHelloChallenge: [UInt8] {
        messages.reversed().lazy.compactMap { if case .hello(let hello) = $0 { hello.challenge } else { nil } }.first ?? []
    }

    func sendBytes(_ bytes: [UInt8]) {
        _ = connection.write(bytes)
    }
}

/// A heartbeat digest for tests that do not check content.
let noDigest = PositionedDigest(seqno: .zero, value: .empty)
