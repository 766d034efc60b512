import Repository
import Testing
import Tranlog
import Transport

@testable import Replication

/// The log reaches the standby byte for byte, resumes exactly after interruptions, and respects a
/// slow standby.
@Suite struct StreamingTests {
    /// How much of its newest log the primary keeps in memory for shipping: none (every frame read
    /// from the files), a little (the shipper switches between files and memory), or plenty.
    static let recentFramesSizes = [0, 700, 16 << 20]

    private func startedPair(commits: Int, recentFramesBytes: Int = 16 << 20) throws -> (ReplicationHarness, LogReceiver) {
        let harness = try ReplicationHarness(recentFramesBytes: recentFramesBytes)
        try harness.primary.commit(commits)
        try harness.listen()
        let receiver = try harness.makeReceiver()
        receiver.start()
        harness.loop.run()
        return (harness, receiver)
    }

    @Test(arguments: StreamingTests.recentFramesSizes)
    func shipsARotatedLogByteIdenticallyAndFollowsItsGrowth(recentFramesBytes: Int) throws {
        let (harness, receiver) = try startedPair(commits: 60, recentFramesBytes: recentFramesBytes)
        #expect(harness.primary.files.count >= 3)
        expectIdentical(harness.standbyFiles, harness.primary.files)
        #expect(receiver.flushedSeqno == harness.primary.lastSeqno)
        #expect(harness.shippers[0].status.acked.flushed == harness.primary.lastSeqno)

        // A notification ships new commits at once, including into a new file.
        try harness.primary.commit(40)
        harness.shippers.forEach { $0.logAdvanced() }
        harness.loop.run()
        expectIdentical(harness.standbyFiles, harness.primary.files)

        // Without one, the poll timer does.
        try harness.primary.commit(5)
        harness.loop.advanceTime(by: harness.shipperConfiguration.pollInterval)
        expectIdentical(harness.standbyFiles, harness.primary.files)
        #expect(harness.shippers[0].status.retainFrom?.fileID == FileID(UInt64(harness.primary.files.count)))
        #expect(harness.shippers[0].status.unflushedBytes == 0)
        #expect(harness.shippers.count == 1)
    }

    @Test(arguments: StreamingTests.recentFramesSizes)
    func followsThePrimaryIntoANewEpoch(recentFramesBytes: Int) throws {
        let (harness, receiver) = try startedPair(commits: 30, recentFramesBytes: recentFramesBytes)
        try harness.primary.beginEpoch()
        try harness.primary.commit(30)
        harness.shippers.forEach { $0.logAdvanced() }
        harness.loop.run()
        #expect(harness.primary.files["tranlog3.dbf"] == nil && harness.primary.files["tranlog4.dbf"] != nil)
        expectIdentical(harness.standbyFiles, harness.primary.files)
        #expect(receiver.flushedSeqno == harness.primary.lastSeqno)
        #expect(try readableSeqnos(harness) == harness.primary.lastSeqno.rawValue)
    }

    @Test func aNewStandbyReceivesBothEpochs() throws {
        let harness = try ReplicationHarness()
        try harness.primary.commit(30)
        try harness.primary.beginEpoch()
        try harness.primary.commit(10)
        try harness.listen()
        let receiver = try harness.makeReceiver()
        receiver.start()
        harness.loop.run()
        expectIdentical(harness.standbyFiles, harness.primary.files)
        #expect(try readableSeqnos(harness) == harness.primary.lastSeqno.rawValue)
    }

    @Test func compressedStreamIsByteIdenticalAndCounted() throws {
        let harness = try ReplicationHarness()
        harness.shipperConfiguration.compressRecords = true
        try harness.primary.commit(60)
        try harness.listen()
        let receiver = try harness.makeReceiver()
        receiver.start()
        harness.loop.run()
        expectIdentical(harness.standbyFiles, harness.primary.files)
        #expect(harness.shippers[0].status.compressionRatio > 2)
    }

    /// The ratio measures the frames alone: envelopes are not compression's business, so without
    /// --compress it is exactly 1 (it read 0.82–0.85 when envelopes counted).
    @Test func anUncompressedStreamHasARatioOfExactlyOne() throws {
        let harness = try ReplicationHarness()
        try harness.primary.commit(60)
        try harness.listen()
        let receiver = try harness.makeReceiver()
        receiver.start()
        harness.loop.run()
        #expect(harness.shippers[0].status.shippedFrameBytes > 0)
        #expect(harness.shippers[0].status.compressionRatio == 1)
    }

    @Test func aSlowStandbyStopsTheShipperUntilWritable() throws {
        var transport = TransportConfiguration()
        transport.writeHighWaterBytes = 32 << 10
        transport.writeLowWaterBytes = 8 << 10
        let harness = try ReplicationHarness(transport: transport, rotationBytes: 64 << 10)
        harness.shipperConfiguration.batchBytes = 8 << 10
        try harness.primary.commit(600, valueBytes: 400)
        try harness.listen()
        let standby = try harness.scriptedStandby()
        guard case .challenge(let challenge)? = standby.messages.first else {
            Issue.record("no challenge")
            return
        }
        standby.connection.pauseReading()
        let hello = Hello(
            repositoryID: testRepository, sourceID: standbySource, position: LogPosition(epoch: .first, seqno: .zero),
            recordCRC: 0, mirrorEnd: nil, history: firstEpochHistory)
        standby.send(.hello(HelloProof.sign(hello, challenge: challenge, key: sharedKey)))
        harness.loop.run()

        let shipper = harness.shippers[0]
        let connection = harness.accepted[0]
        let stoppedAt = shipper.status.sentSeqno
        let queued = connection.queuedWriteBytes
        #expect(stoppedAt < harness.primary.lastSeqno)
        #expect(!connection.isWritable)
        #expect(queued <= transport.writeHighWaterBytes + harness.shipperConfiguration.batchBytes + 1024)

        // Polls and heartbeats while the queue is full read nothing more.
        harness.loop.advanceTime(by: .seconds(3))
        #expect(shipper.status.sentSeqno == stoppedAt)
        #expect(connection.queuedWriteBytes == queued)

        standby.connection.resumeReading()
        harness.loop.run()
        #expect(shipper.status.sentSeqno == harness.primary.lastSeqno)
        expectIdentical(reassembledFiles(from: standby.messages), harness.primary.files)
    }

    @Test func aResetConnectionResumesAtTheExactNextSeqno() throws {
        let harness = try ReplicationHarness()
        try harness.primary.commit(120)
        try harness.listen()
        var resetAt: Seqno?
        let receiver = try harness.makeReceiver(onFlushed: { seqno in
            guard resetAt == nil, seqno >= Seqno(30) else { return }
            resetAt = seqno
            harness.accepted[0].injectReset()
        })
        receiver.start()
        harness.loop.run()
        #expect(receiver.state == .waitingToReconnect)
        // What arrived before the reset is written (the mirror writer had it queued): at least that far.
        #expect(receiver.flushedSeqno >= resetAt!)
        try harness.primary.commit(20)
        #expect(receiver.flushedSeqno < harness.primary.lastSeqno)

        harness.loop.advanceTime(by: .seconds(1))
        #expect(harness.shippers.count == 2)
        #expect(receiver.state == .streaming)
        #expect(receiver.consecutiveFailures == 0)
        expectIdentical(harness.standbyFiles, harness.primary.files)
    }

    @Test func aRestartedStandbyCutsItsTornTailAndResumes() throws {
        let (harness, first) = try startedPair(commits: 30)
        first.stop()
        harness.loop.run()
        let newest = harness.standbyFiles.keys.max { FileID(fileName: $0)! < FileID(fileName: $1)! }!
        let path = standbyDirectory.appending(newest)
        harness.standbyFileSystem.overwrite(path, with: harness.standbyFileSystem.contents(of: path)! + [90, 0, 0, 0, 1, 0])
        try harness.primary.commit(30)

        let second = try harness.makeReceiver()
        second.start()
        harness.loop.run()
        expectIdentical(harness.standbyFiles, harness.primary.files)
        #expect(second.flushedSeqno == harness.primary.lastSeqno)
    }

    @Test func theMirrorsNewestFileRunsOnInZerosAndEveryOtherEndsAtItsData() throws {
        let (harness, first) = try startedPair(commits: 60)
        let fileSystem = harness.standbyFileSystem
        func sizes() throws -> [(data: Int, size: UInt64)] {
            let data = harness.standbyFiles
            return try data.keys.sorted { FileID(fileName: $0)! < FileID(fileName: $1)! }.map {
                (data[$0]!.count, try fileSystem.fileSize(standbyDirectory.appending($0)))
            }
        }
        var files = try sizes()
        #expect(files.count >= 3)
        for file in files.dropLast() { #expect(file.size == UInt64(file.data), "a completed mirror file keeps no zeros") }
        #expect(files.last!.size >= UInt64(files.last!.data + MirrorLogWriter.zeroFillBytes), "zeros ahead of the newest file's data")

        // A restarted standby writes on over its zeros.
        first.stop()
        harness.loop.run()
        try harness.primary.commit(3)
        let second = try harness.makeReceiver()
        second.start()
        harness.loop.run()
        expectIdentical(harness.standbyFiles, harness.primary.files)
        #expect(try sizes().last!.size == files.last!.size, "the file did not grow past its zeros")

        // Before a promotion writes the next file, the zeros go, durably.
        second.stop()
        harness.loop.run()
        try second.finishMirror()
        files = try sizes()
        #expect(files.last!.size == UInt64(files.last!.data))
        #expect(try readableSeqnos(harness) == harness.primary.lastSeqno.rawValue)
        let newest = standbyDirectory.appending(harness.standbyFiles.keys.max { FileID(fileName: $0)! < FileID(fileName: $1)! }!)
        for seed in UInt64(1)...5 {
            #expect(try fileSystem.crashed(seed: seed).fileSize(newest) == UInt64(files.last!.data), "the cut is durable (seed \(seed))")
        }
    }

    @Test func backoffDoublesUpToItsCapWhileThePrimaryIsAway() throws {
        let harness = try ReplicationHarness()
        let receiver = try harness.makeReceiver()
        receiver.start()
        harness.loop.run()
        // 100 ms, 200 ms, 400 ms, ... then 30 s apart: about 10 attempts in the first minute.
        harness.loop.advanceTime(by: .seconds(60))
        #expect(receiver.state == .waitingToReconnect)
        #expect((9...11).contains(receiver.consecutiveFailures))
        try harness.listen()
        harness.loop.advanceTime(by: .seconds(30))
        #expect(receiver.state == .streaming)
    }
}

/// Reads the standby's mirror with the tranlog reader, which checks every CRC, the chain and the
/// epochs; returns how many records it holds.
func readableSeqnos(_ harness: ReplicationHarness) throws -> UInt64 {
    var cursor = TranlogCursor(
        directory: try TranlogDirectory.scan(standbyDirectory, fileSystem: harness.standbyFileSystem), fileSystem: harness.standbyFileSystem,
        expectedRepository: testRepository)
    var count: UInt64 = 0
    while try cursor.next() != nil { count += 1 }
    #expect(cursor.tornTail == nil)
    return count
}

/// Rebuilds tranlog files from the messages a standby received.
func reassembledFiles(from messages: [ReplicationMessage]) -> [String: [UInt8]] {
    var files: [String: [UInt8]] = [:]
    var current: String?
    for message in messages {
        switch message {
        case .fileStart(let header):
            current = try! FileHeader.decode(header[...]).get().fileID.fileName
            files[current!] = header
        case .records(let batch):
            files[current!]! += batch.frames
        default:
            continue
        }
    }
    return files
}

@Suite struct MirrorFailureTests {
    @Test func aFailedSyncStopsTheReceiverForGood() throws {
        let harness = try ReplicationHarness()
        try harness.primary.commit(60)
        try harness.listen()
        harness.standbyFileSystem.failSyncs(afterSuccessful: 3)
        let receiver = try harness.makeReceiver()
        receiver.start()
        harness.loop.run()
        guard case .failed(let reason) = receiver.state else {
            Issue.record("state \(receiver.state)")
            return
        }
        #expect(reason.contains("the mirror cannot be written"))
        harness.loop.advanceTime(by: .seconds(60))
        #expect(harness.shippers.count == 1)
        #expect(receiver.lag.state == .disconnected)
    }
}

@Suite struct LargeRecordTests {
    @Test(arguments: StreamingTests.recentFramesSizes)
    func aFrameLargerThanABatchIsShippedWhole(recentFramesBytes: Int) throws {
        let harness = try ReplicationHarness(rotationBytes: 1 << 20, recentFramesBytes: recentFramesBytes)
        harness.shipperConfiguration.batchBytes = 4096
        try harness.primary.commit(3, valueBytes: 100)
        try harness.primary.commit(2, valueBytes: 20_000)
        try harness.primary.commit(3, valueBytes: 100)
        try harness.listen()
        let receiver = try harness.makeReceiver()
        receiver.start()
        harness.loop.run()
        expectIdentical(harness.standbyFiles, harness.primary.files)
        #expect(receiver.flushedSeqno == harness.primary.lastSeqno)
    }
}
