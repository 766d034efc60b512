import Testing
import Tranlog
import UnderstudyTesting

@Suite struct EpochHistoryTests {
    static func entry(_ epoch: UInt64, from seqno: UInt64, parent: UInt64) -> EpochEntry {
        EpochEntry(epoch: Epoch(epoch), startSeqno: Seqno(seqno), parentEpoch: Epoch(parent), time: Timestamp(rawValue: 0), sourceID: testSource)
    }

    static func history(_ entries: EpochEntry...) throws -> EpochHistory { try EpochHistory(entries: entries) }

    static func position(_ epoch: UInt64, _ seqno: UInt64) -> LogPosition { LogPosition(epoch: Epoch(epoch), seqno: Seqno(seqno)) }

    @Test func epochsMustChainToTheirParent() throws {
        var history = EpochHistory(first: Self.entry(1, from: 1, parent: 0))
        #expect(throws: EpochHistoryError.self) { try history.append(Self.entry(3, from: 10, parent: 2)) }
        #expect(throws: EpochHistoryError.self) { try history.append(Self.entry(2, from: 1, parent: 1)) }
        try history.append(Self.entry(2, from: 101, parent: 1))
        #expect(history.epoch(containing: Seqno(100)) == Epoch(1))
        #expect(history.epoch(containing: Seqno(101)) == Epoch(2))
        #expect(history.lastSeqno(of: Epoch(1)) == Seqno(100))
        #expect(history.lastSeqno(of: Epoch(2)) == nil)
    }

    @Test func positionsOrderOnlyOnTheirOwnHistory() throws {
        let history = try Self.history(Self.entry(1, from: 1, parent: 0), Self.entry(2, from: 101, parent: 1))
        #expect(history.order(Self.position(1, 50), Self.position(2, 150)) == .before)
        #expect(history.order(Self.position(2, 150), Self.position(2, 150)) == .same)
        #expect(history.order(Self.position(1, 150), Self.position(2, 150)) == nil, "epoch 1 ended at 100 here")
        #expect(!history.contains(Self.position(3, 200)))
    }

    @Test func aPrefixIsNotAFork() throws {
        let old = try Self.history(Self.entry(1, from: 1, parent: 0))
        let newer = try Self.history(Self.entry(1, from: 1, parent: 0), Self.entry(2, from: 101, parent: 1))
        #expect(old.fork(with: newer) == nil)
        #expect(old.canFollow(newer, from: Self.position(1, 100)) == .follows, "stopped exactly where epoch 2 branched")
        guard case .forked(let fork) = old.canFollow(newer, from: Self.position(1, 150)) else {
            Issue.record("a node that went on in epoch 1 past seqno 100 must not follow epoch 2")
            return
        }
        #expect(fork.lastCommonSeqno == Seqno(100))
        #expect(fork.forkSeqno == Seqno(101))
        #expect(newer.canFollow(old, from: Self.position(2, 120)) == .forked(fork.swapped))
    }

    @Test func divergentEpochsForkAtTheEarlierBranch() throws {
        let a = try Self.history(Self.entry(1, from: 1, parent: 0), Self.entry(2, from: 51, parent: 1))
        let b = try Self.history(Self.entry(1, from: 1, parent: 0), Self.entry(2, from: 101, parent: 1))
        let fork = try #require(a.fork(with: b))
        #expect(fork.commonEpoch == Epoch(1))
        #expect(fork.lastCommonSeqno == Seqno(50))
        #expect(fork.description.contains("fork in time after seqno 50 of epoch 1"))
        #expect(a.canFollow(b, from: Self.position(1, 50)) == .follows)
        #expect(a.canFollow(b, from: Self.position(2, 51)) == .forked(fork))
    }

    /// The reference chapter's scenario: backup1, logs 1–3, backup2, logs 4–6, restore backup2 and
    /// commit without logs 4–6, logs 7–9. Replaying 1–9 onto backup1 must stop at the first file
    /// of the other branch; replaying 1–6 alone must work.
    @Test func forkInTimeIsRefusedAtTheFirstFileOfTheOtherBranch() throws {
        let fileSystem = emptyLogFileSystem()
        let writer = try TranlogWriter(
            configuration: writerConfiguration(rotationBytes: 1 << 20), fileSystem: fileSystem, startIfEmpty: .newRepository)
        var endOfLog3: AppendedRecord?
        for index in 0..<3 { endOfLog3 = try writer.appendAndWait(putCommit(index)) }
        let restorePoint = try #require(endOfLog3)
        try writer.close()
        // Timeline A: epoch 1 goes on (logs 4–6 in our terms: more records after the backup point).
        let timelineA = fileSystem.crashed(seed: 1)
        let writerA = try TranlogWriter(configuration: writerConfiguration(rotationBytes: 1 << 20), fileSystem: timelineA)
        for index in 3..<6 { _ = try writerA.appendAndWait(putCommit(index)) }
        try writerA.close()
        // Timeline B: restored at the end of log 3 and committed: epoch 2 branches there.
        let (writerB, begin) = try TranlogWriter.beginningEpoch(
            ChainStart(fileID: FileID(2), epoch: Epoch(2), previousLastSeqno: restorePoint.seqno, previousLastRecordCRC: restorePoint.crc),
            parent: .first, configuration: writerConfiguration(rotationBytes: 1 << 20), fileSystem: fileSystem)
        for index in 6..<9 { _ = try writerB.appendAndWait(putCommit(index)) }
        try writerB.close()
        // An operator gathers timeline A's log 1 and timeline B's log 2 (epoch 2) into one directory.
        let mixed = emptyLogFileSystem()
        mixed.overwrite(path(1), with: timelineA.contents(of: path(1))!)
        mixed.overwrite(path(2), with: fileSystem.contents(of: path(2))!)

        let error = expectTranlogError { _ = try readLog(mixed) }
        guard case .forkInTime(_, let fileID, let epoch, let branchedAfter, let replayedEpoch, let replayedThrough) = error else {
            Issue.record("expected a fork in time, got \(String(describing: error))")
            return
        }
        #expect(fileID == begin.eventID.fileID && epoch == Epoch(2) && replayedEpoch == .first)
        #expect(branchedAfter == restorePoint.seqno)
        #expect(replayedThrough > branchedAfter)
        #expect(error!.description.contains("fork in time: \(path(2).string) (fileId 2) begins epoch 2"))
        #expect(error!.description.contains("Nothing of epoch 2 is replayed"))
        // Timeline A alone still replays.
        #expect(try readLog(timelineA).records.count == 6)
    }
}

extension Fork {
    var swapped: Fork { Fork(commonEpoch: commonEpoch, lastCommonSeqno: lastCommonSeqno, ours: theirs, theirs: ours) }
}
