import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

@testable import Repository

/// A standby's applier takes the frames its mirror writer synced from memory (`applyMirrored`),
/// decoding each body once, and reads the mirror from disk only for what memory does not hold.
extension RestoreTests {
    /// The tranlogs as the mirror writer hands them over: batches of `framesPerBatch` frames, each
    /// with the headers the writer read.
    static func mirroredFrames(_ fileSystem: SimulatedFileSystem, framesPerBatch: Int) throws -> [MirroredFrames] {
        var batches: [MirroredFrames] = []
        for ref in try TranlogDirectory.scan(tranlogs, fileSystem: fileSystem).files {
            let bytes = try fileSystem.readFile(ref.path)
            guard case .success(let header) = FileHeader.decode(bytes[...]) else { continue }
            var offset = FileHeader.size
            var batch = MirroredFrames(file: ref, fileHeader: header, offset: UInt64(offset), frames: [], headers: [])
            while case .header(let frame) = RecordFrame.readHeader(bytes[offset...]) {
                batch.frames += bytes[offset..<offset + frame.length]
                batch.headers.append(frame)
                offset += frame.length
                if batch.headers.count == framesPerBatch {
                    batches.append(batch)
                    batch = MirroredFrames(file: ref, fileHeader: header, offset: UInt64(offset), frames: [], headers: [])
                }
            }
            if !batch.headers.isEmpty { batches.append(batch) }
        }
        return batches
    }

    @Test func mirroredFramesApplyWithoutReadingTheMirror() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 90, checkpointAfter: 10)
        let batches = try Self.mirroredFrames(fileSystem, framesPerBatch: 7)
        let repository = try Self.restoring(fileSystem)
        defer { try? repository.close() }
        let reads = fileSystem.fileReadCount
        #expect(try repository.applyMirrored(batches, through: seqnos[89]).seqno == seqnos[89])
        #expect(fileSystem.fileReadCount == reads, "nothing was read back from the mirror")
        #expect(repository.status.objectCount == 90)
        #expect(repository.get(Array("key-89".utf8))?.value == Array(("value-89-" + String(repeating: "x", count: 60)).utf8))
    }

    /// The changes of commits applied from memory reach the next checkpoint: a batch's are joined at
    /// once, and a checkpoint of few changes next to the table writes exactly the keys they name.
    /// Reopened in restore mode, which replays nothing by itself, the repository holds what was applied.
    @Test func changesAppliedFromMemoryReachTheNextCheckpoint() async throws {
        let fileSystem = try initializedFileSystem()
        let primary = try openRepository(fileSystem, testConfiguration(rotationBytes: 1 << 20))
        for index in 0..<2_000 { _ = try await primary.commit(put("old-\(index)", "1")) }
        try primary.checkpoint()
        var last = Seqno.zero
        for index in 0..<300 {
            let change = index % 10 == 0 ? Transaction(operations: [.delete(key: bytes("old-\(index)"))]) : put("new-\(index)", "2")
            last = try await primary.commit(change).seqno
        }
        let survivor = fileSystem.crashed(seed: 1)
        _ = try? primary.close()
        let batches = try Self.mirroredFrames(survivor, framesPerBatch: 10_000)
        #expect(batches.contains { $0.headers.count >= 300 }, "one batch holds every commit after the checkpoint")

        let standby = try Self.restoring(survivor)
        #expect(try standby.applyMirrored(batches, through: last).seqno == last)
        let applied = (standby.digest.value, standby.status.objectCount)
        #expect(applied.1 == 2_000 - 30 + 270)
        try #require(try standby.checkpoint() != nil)
        try standby.close()
        let reopened = try Self.restoring(survivor)
        defer { try? reopened.close() }
        #expect(reopened.status.applied.seqno == last)
        #expect(reopened.digest.value == applied.0 && reopened.status.objectCount == applied.1)
        #expect(reopened.get(bytes("new-299"))?.value == bytes("2") && reopened.get(bytes("old-290")) == nil)
    }

    /// Decoded and hashed one batch ahead on another thread, the frames leave exactly the content,
    /// digest included, that reading the mirror from disk leaves.
    @Test func batchesPreparedAheadLeaveWhatTheMirrorOnDiskLeaves() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 90, checkpointAfter: 10)
        let batches = try Self.mirroredFrames(fileSystem, framesPerBatch: 2)
        let untouched = fileSystem.crashed(seed: 3)

        let fromMemory = try Self.restoring(fileSystem)
        #expect(try fromMemory.applyMirrored(batches, through: seqnos[89]).seqno == seqnos[89])
        let memory = (fromMemory.digest, fromMemory.status.objectCount)
        try fromMemory.close()
        let fromDisk = try Self.restoring(untouched)
        defer { try? fromDisk.close() }
        #expect(try fromDisk.applyLocalLogs(through: seqnos[89]).seqno == seqnos[89])
        #expect(memory.0 == fromDisk.digest && memory.1 == fromDisk.status.objectCount)
        #expect(memory.0.value != ContentDigest.empty)
    }

    /// Batches lost to the handoff's bound leave a gap: memory applies up to it, the mirror on disk
    /// bridges it, and memory takes over again after it.
    @Test func aGapInTheHandoffIsBridgedFromTheMirrorOnDisk() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 90, checkpointAfter: 10)
        let batches = try Self.mirroredFrames(fileSystem, framesPerBatch: 5)
        let repository = try Self.restoring(fileSystem)
        defer { try? repository.close() }
        let gapStart = try #require(batches.firstIndex { $0.firstSeqno! > seqnos[40] })
        let beforeGap = Array(batches[..<gapStart])
        let afterGap = Array(batches[(gapStart + 4)...])

        let stopped = try repository.applyMirrored(beforeGap + afterGap, through: seqnos[89])
        #expect(stopped.seqno == beforeGap.last!.lastSeqno!, "applied up to the gap, nothing after it")
        let bridged = try repository.applyLocalLogs(through: batches[gapStart + 3].lastSeqno!)
        #expect(bridged.seqno == batches[gapStart + 3].lastSeqno!)
        let reads = fileSystem.fileReadCount
        #expect(try repository.applyMirrored(afterGap, through: seqnos[89]).seqno == seqnos[89])
        #expect(fileSystem.fileReadCount == reads)
        #expect(repository.status.objectCount == 90)
    }

    /// A commit handed over in memory whose CRC holds but whose payload does not (a forged frame: its
    /// first operation well formed, its second of an unknown tag) is refused naming the file, fileId,
    /// offset, seqno and the operation; none of its writes is applied, and what came before stays.
    @Test func aMalformedCommitFromMemoryIsRefusedAndNoneOfItsWritesApplied() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 90, checkpointAfter: 10)
        var batches = try Self.mirroredFrames(fileSystem, framesPerBatch: 6)
        let batchIndex = try #require(batches.firstIndex { $0.lastSeqno! > seqnos[60] })
        var batch = batches[batchIndex]
        let frameIndex = try #require(batch.headers.firstIndex { $0.seqno == seqnos[60].next })
        let original = batch.headers[frameIndex]
        let start = batch.headers[..<frameIndex].reduce(0) { $0 + $1.length }
        // Its fixed header and source id as they were, then two operations: put "zz", and a tag 9.
        let kept = Array(batch.frames[start..<start + RecordFrame.fixedHeaderBytes + original.sourceLength])
        var forged = kept + [2, 0, 0, 0] + [1, 2, 0] + Array("zz".utf8) + [1, 0, 0, 0] + Array("v".utf8) + [9, 1, 0] + Array("q".utf8)
        forged.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(forged.count + 4).littleEndian, Array.init))
        forged += withUnsafeBytes(of: Checksum.crc32(forged).littleEndian, Array.init)
        guard case .header(let header) = RecordFrame.readHeader(forged[...]) else { Issue.record("the forged frame's header"); return }
        batch.frames.replaceSubrange(start..<start + original.length, with: forged)
        batch.headers[frameIndex] = header
        batches[batchIndex] = batch
        let repository = try Self.restoring(fileSystem)
        defer { try? repository.close() }

        let refused = await expectRepositoryError { _ = try repository.applyMirrored(batches, through: seqnos[89]) }
        guard case .tranlog(.corruptRecord(let file, let fileID, let offset, let seqno, .malformedPayload(.commit, let reason))) = refused else {
            Issue.record("expected a corrupt record, got \(String(describing: refused))")
            return
        }
        #expect(file == batch.file.path.string && fileID == batch.file.fileID && offset == batch.offset + UInt64(start) && seqno == header.seqno)
        #expect(reason == "operation 1 has unknown tag 9")
        #expect(repository.appliedPosition.seqno == seqnos[60])
        #expect(repository.get(Array("zz".utf8)) == nil, "the malformed commit's first write was applied")
    }

    /// A commit handed over in memory that does not continue the position (here, another primary's
    /// log of the same length) is refused with the chain rule's error naming its seqno and file;
    /// what came before it stays applied.
    @Test func aCommitFromMemoryThatDoesNotContinueIsRefusedNamingItsSeqnoAndFile() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 90, checkpointAfter: 10)
        let (other, _) = try await Self.crashedPrimary(commits: 90, checkpointAfter: 10)
        let ours = try Self.mirroredFrames(fileSystem, framesPerBatch: 4)
        let theirs = try Self.mirroredFrames(other, framesPerBatch: 4)
        let repository = try Self.restoring(fileSystem)
        defer { try? repository.close() }
        #expect(try repository.applyMirrored(ours, through: seqnos[50]).seqno == seqnos[50])

        let refused = await expectRepositoryError { _ = try repository.applyMirrored(theirs, through: seqnos[89]) }
        let file = try #require(theirs.first { $0.lastSeqno! >= seqnos[51] }).file.path.string
        guard case .logsDoNotContinue(let message) = refused else {
            Issue.record("expected logsDoNotContinue, got \(String(describing: refused))")
            return
        }
        #expect(message.contains("seqno \(seqnos[51]) at ") && message.contains("(\(file))"), "\(message)")
        #expect(repository.appliedPosition.seqno == seqnos[50])
        #expect(repository.status.objectCount == 51)
    }

    /// A step from memory leaves the resume point where a later step from disk (after a gap) reads
    /// only what follows it.
    @Test func aStepFromDiskAfterOneFromMemoryContinuesExactly() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 90, checkpointAfter: 10)
        let batches = try Self.mirroredFrames(fileSystem, framesPerBatch: 3)
        let repository = try Self.restoring(fileSystem)
        defer { try? repository.close() }
        #expect(try repository.applyMirrored(batches, through: seqnos[50]).seqno == seqnos[50])
        #expect(try repository.applyLocalLogs(through: seqnos[89]).seqno == seqnos[89])
        #expect(repository.status.objectCount == 90)
    }

    /// A delayed standby's horizon: memory and disk both stop before the first record committed
    /// after it, keep everything before it applied, and go on from there once it moves.
    @Test func aHorizonStopsTheApplyFromMemoryAndFromDisk() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 90, checkpointAfter: 10)
        let batches = try Self.mirroredFrames(fileSystem, framesPerBatch: 4)
        let headers = batches.flatMap(\.headers)
        // A record whose successor was committed later: the horizon falls between the two.
        let cut = try #require(headers.indices.dropFirst(40).first { headers[$0 + 1].time > headers[$0].time })
        let horizon = headers[cut].time
        let untouched = fileSystem.crashed(seed: 2)

        let fromMemory = try Self.restoring(fileSystem)
        #expect(try fromMemory.applyMirrored(batches, through: seqnos[89], notAfter: horizon).seqno == headers[cut].seqno)
        #expect(try fromMemory.applyLocalLogs(through: seqnos[89], notAfter: horizon).seqno == headers[cut].seqno, "the disk holds it back too")
        #expect(try fromMemory.applyMirrored(batches, through: seqnos[89]).seqno == seqnos[89])
        #expect(fromMemory.status.objectCount == 90)
        try fromMemory.close()

        let fromDisk = try Self.restoring(untouched)
        defer { try? fromDisk.close() }
        #expect(try fromDisk.applyLocalLogs(through: seqnos[89], notAfter: horizon).seqno == headers[cut].seqno)
        #expect(fromDisk.status.applied.time == horizon)
        #expect(try fromDisk.applyLocalLogs(through: seqnos[89], notAfter: headers[cut + 1].time).seqno >= headers[cut + 1].seqno)
        #expect(try fromDisk.applyLocalLogs(through: seqnos[89]).seqno == seqnos[89])
    }

    /// A step prepared while the mirror writer syncs its frames stays out of sight until it is
    /// published, and then leaves what applying the same frames at once leaves.
    @Test func aPreparedStepIsSeenOnlyOncePublished() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 90, checkpointAfter: 10)
        let batches = try Self.mirroredFrames(fileSystem, framesPerBatch: 7)
        let untouched = fileSystem.crashed(seed: 4)
        let repository = try Self.restoring(fileSystem)
        defer { try? repository.close() }
        let before = (repository.status.applied, repository.status.objectCount, repository.digest)

        let prepared = try repository.prepareMirrored(batches, through: seqnos[89])
        #expect(prepared.appliedSeqno == seqnos[89])
        #expect(repository.status.applied == before.0 && repository.status.objectCount == before.1 && repository.digest == before.2)
        #expect(repository.get(Array("key-89".utf8)) == nil)

        #expect(try repository.publishPrepared(prepared)?.seqno == seqnos[89])
        #expect(repository.get(Array("key-89".utf8))?.value == Array(("value-89-" + String(repeating: "x", count: 60)).utf8))
        let atOnce = try Self.restoring(untouched)
        defer { try? atOnce.close() }
        #expect(try atOnce.applyMirrored(batches, through: seqnos[89]).seqno == seqnos[89])
        #expect(repository.digest == atOnce.digest && repository.status.objectCount == atOnce.status.objectCount)
    }

    /// A prepared step is published only onto the position it began from: once something else was
    /// applied, it publishes nothing, and the frames are applied the usual way.
    @Test func aPreparedStepIsNotPublishedOntoAPositionThatMoved() async throws {
        let (fileSystem, seqnos) = try await Self.crashedPrimary(commits: 90, checkpointAfter: 10)
        let batches = try Self.mirroredFrames(fileSystem, framesPerBatch: 5)
        let repository = try Self.restoring(fileSystem)
        defer { try? repository.close() }
        let prepared = try repository.prepareMirrored(batches, through: seqnos[89])
        #expect(try repository.applyMirrored(batches, through: seqnos[50]).seqno == seqnos[50])
        let moved = (repository.status.applied, repository.digest)

        #expect(try repository.publishPrepared(prepared) == nil)
        #expect(repository.status.applied == moved.0 && repository.digest == moved.1)
        #expect(try repository.applyMirrored(batches, through: seqnos[89]).seqno == seqnos[89])
        #expect(repository.status.objectCount == 90)
    }
}
