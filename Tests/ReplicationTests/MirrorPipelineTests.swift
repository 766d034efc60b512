import Foundation
import Repository
import Testing
import Tranlog
import UnderstudyTesting

@testable import Replication

/// The standby's pipeline: the loop splits messages, the mirror writer checks, writes and syncs once
/// per drained queue, acknowledges only what is synced, and hands the frames to the applier.
@Suite struct MirrorPipelineTests {
    /// The primary's first file as a scripted primary sends it: its header and batches of
    /// `framesPerBatch` frames.
    private static func stream(_ harness: ReplicationHarness, commits: Int, framesPerBatch: Int) throws -> (header: [UInt8], batches: [RecordBatch]) {
        try harness.primary.commit(commits)
        let bytes = try #require(harness.primary.files[FileID.first.fileName])
        var batches: [RecordBatch] = []
        var offset = FileHeader.size
        var batch = RecordBatch(firstEventID: EventID(fileID: .first, offset: UInt64(offset)), frames: [])
        var frames = 0
        while case .header(let frame) = RecordFrame.readHeader(bytes[offset...]) {
            batch.frames += bytes[offset..<offset + frame.length]
            offset += frame.length
            frames += 1
            if frames % framesPerBatch == 0 {
                batches.append(batch)
                batch = RecordBatch(firstEventID: EventID(fileID: .first, offset: UInt64(offset)), frames: [])
            }
        }
        if !batch.frames.isEmpty { batches.append(batch) }
        return (Array(bytes.prefix(FileHeader.size)), batches)
    }

    private static func welcome(_ primary: ScriptedPeer, header: [UInt8], harness: ReplicationHarness) {
        primary.send(.challenge(HelloProof.makeChallenge()))
        harness.loop.run()  // the hello, whose challenge the welcome signs
        primary.send(.welcome(Welcome(repositoryID: testRepository, position: LogPosition(epoch: .first, seqno: .zero), history: firstEpochHistory)))
        primary.send(.fileStart(header: header))
    }

    private static func lastSeqno(of batches: some Collection<RecordBatch>) -> Seqno {
        var last = Seqno.zero
        for batch in batches {
            var offset = 0
            while case .header(let frame) = RecordFrame.readHeader(batch.frames[offset...]) {
                last = frame.seqno
                offset += frame.length
            }
        }
        return last
    }

    private static func acks(_ peer: ScriptedPeer) -> [Ack] {
        peer.messages.compactMap { if case .ack(let ack) = $0 { ack } else { nil } }
    }

    /// Many batches, each split over many socket reads, arriving before the writer drains: one sync.
    @Test func batchesSplitOverManyReadsAreSyncedOnce() throws {
        let harness = try ReplicationHarness(rotationBytes: 1 << 20)
        let (header, batches) = try Self.stream(harness, commits: 60, framesPerBatch: 6)
        let (receiver, primary) = try harness.receiverWithScriptedPrimary()
        Self.welcome(primary, header: header, harness: harness)
        harness.loop.run()
        let syncs = harness.standbyFileSystem.fileSyncCount
        var reads = 0
        for batch in batches {
            let bytes = MessageCodec.encode(.records(batch))
            for start in stride(from: 0, to: bytes.count, by: 97) {
                primary.sendBytes(Array(bytes[start..<min(bytes.count, start + 97)]))
                reads += 1
            }
        }
        harness.loop.run()
        #expect(batches.count >= 10 && reads > 10 * batches.count)
        #expect(harness.standbyFileSystem.fileSyncCount - syncs == 1)
        #expect(receiver.flushedSeqno == Self.lastSeqno(of: batches))
        let acks = Self.acks(primary)
        #expect(acks.count == 1 && acks.last?.flushed == receiver.flushedSeqno)
        expectIdentical(harness.standbyFiles, harness.primary.files)
    }

    /// On its own thread: what arrives while a sync is in flight waits, then shares one sync.
    @Test func workQueuedDuringASyncSharesTheNextSync() throws {
        let harness = try ReplicationHarness(rotationBytes: 1 << 20)
        let (header, batches) = try Self.stream(harness, commits: 50, framesPerBatch: 10)
        let (receiver, primary) = try harness.receiverWithScriptedPrimary(mirrorWriterThread: true)
        Self.welcome(primary, header: header, harness: harness)
        Self.settle(harness, receiver)
        let fileSystem = harness.standbyFileSystem
        try Self.sendWithSyncHeld(batches[0], harness, primary)
        for batch in batches.dropFirst() {
            primary.send(.records(batch))
            harness.loop.run()
        }
        #expect(receiver.flushedSeqno == .zero, "nothing is acknowledged before its sync")
        let syncs = fileSystem.fileSyncCount
        fileSystem.resumeSyncs()
        Self.settle(harness, receiver)
        #expect(fileSystem.fileSyncCount - syncs == 2, "the paused sync, then one for the \(batches.count - 1) batches queued behind it")
        #expect(receiver.flushedSeqno == Self.lastSeqno(of: batches))
        #expect(Self.acks(primary).map(\.flushed) == [Self.lastSeqno(of: batches.prefix(1)), receiver.flushedSeqno])
    }

    /// Power lost while frames are written but not synced: everything acknowledged survives.
    @Test func aCrashBetweenWriteAndSyncLosesNothingAcknowledged() throws {
        for seed in UInt64(0)..<6 {
            let harness = try ReplicationHarness(rotationBytes: 1 << 20)
            let (header, batches) = try Self.stream(harness, commits: 40, framesPerBatch: 10)
            let (receiver, primary) = try harness.receiverWithScriptedPrimary(mirrorWriterThread: true)
            Self.welcome(primary, header: header, harness: harness)
            primary.send(.records(batches[0]))
            Self.settle(harness, receiver)
            let fileSystem = harness.standbyFileSystem
            try Self.sendWithSyncHeld(batches[1], harness, primary)
            harness.loop.run()
            let acknowledged = Self.acks(primary).map(\.flushed).max() ?? .zero
            #expect(acknowledged == Self.lastSeqno(of: batches.prefix(1)))
            let afterPowerLoss = fileSystem.crashed(seed: seed)
            fileSystem.resumeSyncs()
            Self.settle(harness, receiver)

            let (_, validator) = try MirrorLogWriter.open(
                directory: standbyDirectory, fileSystem: afterPowerLoss, repositoryID: testRepository, emptyPosition: (.zero, 0),
                logger: quietLogger)
            #expect(validator.lastSeqno >= acknowledged, "seed \(seed): the mirror kept seqno \(validator.lastSeqno)")
        }
    }

    /// Sends `batch` with the standby's syncs paused; returns once the writer's sync of it waits.
    private static func sendWithSyncHeld(_ batch: RecordBatch, _ harness: ReplicationHarness, _ primary: ScriptedPeer) throws {
        harness.standbyFileSystem.pauseSyncs()
        primary.send(.records(batch))
        harness.loop.run()
        try #require(harness.standbyFileSystem.waitForPausedSyncs(1), "no sync reached the paused gate")
    }

    /// Lets the writer's thread finish and the loop take its reports.
    private static func settle(_ harness: ReplicationHarness, _ receiver: LogReceiver) {
        harness.loop.run()
        receiver.waitForMirrorWriter()
        harness.loop.run()
    }

    @Test func theHandoffKeepsFramesWithinItsBoundAndReturnsThemInOrder() {
        let file = TranlogFileRef(fileID: .first, path: standbyDirectory.appending(FileID.first.fileName))
        let header = FileHeader(
            repositoryID: testRepository, fileID: .first, epoch: .first, creationTime: startOfTime, previousLastSeqno: .zero,
            previousLastRecordCRC: 0)
        func batch(_ seqnos: ClosedRange<UInt64>) -> MirroredFrames {
            let headers = seqnos.map {
                FrameHeader(length: 100, kind: .commit, seqno: Seqno($0), epoch: .first, time: startOfTime, previousCRC: 0, crc: 0,
                    sourceLength: 1, epochBegin: nil)
            }
            return MirroredFrames(file: file, fileHeader: header, offset: 128, frames: Array(repeating: 0, count: 100 * seqnos.count), headers: headers)
        }
        var handoff = MirrorHandoff(maxBytes: 1_000)
        handoff.push([batch(1...4), batch(5...8), batch(9...12)])
        #expect(handoff.bytes == 800 && handoff.droppedBatches == 1, "the third batch passes the bound")
        #expect(handoff.batches(through: Seqno(6)).map(\.firstSeqno) == [Seqno(1), Seqno(5)], "the batch reaching past the target comes too")
        #expect(handoff.bytes == 800, "nothing is forgotten before it is applied (a delayed standby applies part)")
        #expect(handoff.commitTime(after: Seqno(4)) == startOfTime, "the next record's commit time, for a delayed applier")
        #expect(handoff.commitTime(after: Seqno(8)) == nil, "not held: the third batch was dropped")
        handoff.release(through: Seqno(6))
        #expect(handoff.bytes == 400, "the batch reaching past the applied seqno stays for the frames after it")
        #expect(handoff.batches(through: Seqno(20)).map(\.firstSeqno) == [Seqno(5)])
        handoff.release(through: Seqno(20))
        #expect(handoff.bytes == 0)
    }
}
