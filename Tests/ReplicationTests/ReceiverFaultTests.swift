import Repository
import Testing
import Tranlog

@testable import Replication

/// The receiver tells the node when replication cannot go on by itself (the node then takes the
/// standby offline), and only then: a failed mirror, or a refusal no reconnect can fix.
@Suite struct ReceiverFaultTests {
    /// Runs a receiver against a primary of 40 commits until the loop is idle; returns the faults reported.
    private func faults(
        key: ReplicationKey = sharedKey, repositoryID: RepositoryID = testRepository, failSyncsAfter: Int? = nil
    ) throws -> [ReceiverFault] {
        let harness = try ReplicationHarness()
        try harness.primary.commit(40)
        try harness.listen()
        if let failSyncsAfter { harness.standbyFileSystem.failSyncs(afterSuccessful: failSyncsAfter) }
        var reported: [ReceiverFault] = []
        let receiver = try harness.makeReceiver(key: key, repositoryID: repositoryID, onFault: { reported.append($0) })
        receiver.start()
        harness.loop.run()
        return reported
    }

    @Test func aFailedMirrorSyncIsReportedOnce() throws {
        let reported = try faults(failSyncsAfter: 3)
        #expect(reported.count == 1)
        guard case .mirrorWrite(let reason) = reported.first else {
            Issue.record("\(reported)")
            return
        }
        #expect(reason.contains("sync"), "\(reason)")
    }

    /// A drain's frames are offered before its sync (a standby prepares their apply meanwhile), and
    /// only a sync that returned reports them flushed: the drain whose sync failed offered frames
    /// that are never reported, and the synced end stays where the last good sync left it.
    @Test func framesAreOfferedBeforeTheirSyncAndReportedFlushedOnlyAfterIt() throws {
        let harness = try ReplicationHarness()
        try harness.primary.commit(20)
        try harness.listen()
        var offered: [Seqno] = []
        var flushed: [Seqno] = []
        let receiver = try harness.makeReceiver(
            onFlushed: { flushed.append($0) }, beforeSync: { frames in frames.last?.lastSeqno.map { offered.append($0) } })
        receiver.start()
        harness.loop.run()
        // Two more commits, in the same file (a new file's creation would fail before any frame).
        harness.standbyFileSystem.failSyncs(afterSuccessful: 0)
        try harness.primary.commit(2)
        harness.shippers.forEach { $0.logAdvanced() }
        harness.loop.run()
        let lastFlushed = try #require(flushed.last, "a sync succeeded first")
        #expect(try #require(offered.last) > lastFlushed, "the failed drain's frames were offered, never reported")
        #expect(flushed.allSatisfy { seqno in offered.contains(seqno) }, "each flushed end was offered before its sync")
        #expect(receiver.syncedSeqno == lastFlushed)
    }

    @Test func anotherRepositoryIsAFault() throws {
        #expect(try faults(repositoryID: otherRepository) == [.rejected(.otherRepository(primary: testRepository, standby: otherRepository))])
    }

    @Test func aWrongKeyIsNotAFault() throws {
        #expect(try faults(key: ReplicationKey(bytes: Array("not-the-primary's-key".utf8))).isEmpty)
    }

    @Test func aHealthyStreamReportsNoFault() throws {
        #expect(try faults().isEmpty)
    }

    @Test func onlyRefusalsNoReconnectCanFixNeedAnOperator() {
        #expect(!RejectReason.wrongKey.needsOperator)
        #expect(!RejectReason.protocolVersion(primary: 1, standby: 2).needsOperator)
        #expect(RejectReason.logsRemoved(needed: Seqno(5), oldestAvailable: Seqno(9)).needsOperator)
        #expect(RejectReason.divergentRecord(seqno: Seqno(5), primaryCRC: 1, standbyCRC: 2).needsOperator)
    }

    @Test func aMirrorThatFailedOnAFullDiskIsReopenedOnceThereIsRoomAndStreamsOn() throws {
        let harness = try ReplicationHarness()
        try harness.primary.commit(40)
        try harness.listen()
        harness.standbyFileSystem.limitFreeSpace(to: 3000)
        var reported: [ReceiverFault] = []
        let receiver = try harness.makeReceiver(onFault: { reported.append($0) })
        receiver.start()
        harness.loop.run()
        guard case .failed = receiver.state, case .mirrorWrite = reported.first else {
            Issue.record("\(receiver.state), \(reported)")
            return
        }
        #expect(throws: TranlogError.self, "the disk is still full") { try receiver.reopenMirror() }

        harness.standbyFileSystem.limitFreeSpace(to: 1 << 40)
        let reopened = try receiver.reopenMirror()
        receiver.resume(with: reopened)
        try reopened.closeReplaced()
        #expect(receiver.state == .stopped)
        receiver.start()
        harness.loop.run()
        #expect(receiver.state == .streaming)
        #expect(receiver.flushedSeqno == harness.primary.lastSeqno)
        expectIdentical(harness.standbyFiles, harness.primary.files)
        #expect(reported.count == 1)
    }
}
