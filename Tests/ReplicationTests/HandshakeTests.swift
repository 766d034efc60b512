import Repository
import Testing
import Tranlog

@testable import Replication

/// Every refusal reaches the standby as a typed reason, and nothing is written to its mirror.
@Suite struct HandshakeTests {
    /// Runs a receiver against a primary of 40 commits (several files) and returns its rejection.
    private func rejection(
        prepare: (ReplicationHarness) throws -> Void = { _ in },
        key: ReplicationKey = sharedKey, repositoryID: RepositoryID = testRepository,
        history: EpochHistory = firstEpochHistory, restoredTo: AppliedPosition = .empty,
        inspect: (ReplicationHarness) -> Void = { _ in }
    ) throws -> RejectReason? {
        let harness = try ReplicationHarness()
        try harness.primary.commit(40)
        try prepare(harness)
        try harness.listen()
        let receiver = try harness.makeReceiver(key: key, repositoryID: repositoryID, history: history, restoredTo: restoredTo)
        receiver.start()
        harness.loop.run()
        #expect(receiver.state == .waitingToReconnect)
        #expect(harness.standbyFiles.isEmpty)
        #expect(harness.shippers.first?.status.rejection == receiver.lastRejection)
        inspect(harness)
        return receiver.lastRejection
    }

    private func restored(to seqno: UInt64, crc: UInt32) -> AppliedPosition {
        AppliedPosition(seqno: Seqno(seqno), epoch: .first, eventID: nil, sourceID: nil, time: nil, recordCRC: crc)
    }

    @Test func refusesAWrongKey() throws {
        #expect(try rejection(key: ReplicationKey(bytes: Array("not-the-primary's-key".utf8))) == .wrongKey)
    }

    @Test func refusesAnotherRepository() throws {
        #expect(try rejection(repositoryID: otherRepository) == .otherRepository(primary: testRepository, standby: otherRepository))
    }

    @Test func refusesAForkInTime() throws {
        // The primary was promoted after seqno 10 (epoch 2 from 11); the standby kept applying epoch 1 to 15.
        let reason = try rejection(prepare: { $0.primary.history = forkedHistory() }, restoredTo: restored(to: 15, crc: 0))
        #expect(reason == .forkInTime(primary: forkedHistory(), standby: firstEpochHistory, forkSeqno: Seqno(11)))
    }

    @Test func standbyAtTheForkPointMayFollow() throws {
        let harness = try ReplicationHarness()
        let records = try (0..<40).map { _ in try harness.primary.commit(1) }
        #expect(records[9].seqno == Seqno(10))
        harness.primary.history = forkedHistory()
        try harness.listen()
        let receiver = try harness.makeReceiver(restoredTo: restored(to: 10, crc: records[9].crc))
        receiver.start()
        harness.loop.run()
        #expect(receiver.state == .streaming)
        #expect(receiver.flushedSeqno == harness.primary.lastSeqno)
    }

    @Test func refusesADivergentRecord() throws {
        let reason = try rejection(restoredTo: restored(to: 5, crc: 0xbad))
        guard case .divergentRecord(let seqno, _, let standbyCRC)? = reason else {
            Issue.record("\(String(describing: reason))")
            return
        }
        #expect(seqno == Seqno(5) && standbyCRC == 0xbad)
    }

    @Test func refusesWhenLogsWereRemoved() throws {
        var oldest: Seqno?
        let reason = try rejection(prepare: { harness in
            let fileSystem = harness.primary.fileSystem
            try fileSystem.removeFile(primaryDirectory.appending("tranlog1.dbf"))
            let header = FileHeader.decode(fileSystem.contents(of: primaryDirectory.appending("tranlog2.dbf"))![...])
            oldest = try header.get().firstSeqno
        })
        #expect(reason == .logsRemoved(needed: Seqno(1), oldestAvailable: oldest))
        #expect(reason?.description.contains("standby needs seqno 1; oldest available is \(oldest!)") == true)
    }

    @Test("a standby whose history holds a newer epoch fences the primary (an old primary) before it is refused")
    func newerEpochInTheHelloFencesThePrimary() throws {
        // At the fork point it could follow either branch: only the newer epoch in its history says
        // another node was promoted, so this primary must be the old one.
        var fences: [NewerEpoch] = []
        let reason = try rejection(history: forkedHistory(), restoredTo: restored(to: 10, crc: 0), inspect: { fences = $0.primary.fences })
        #expect(reason == .fenced(detail: "fenced: epoch 2 began at seqno 11 on \(standbySource)"))
        #expect(fences.map(\.epoch) == [Epoch(2)])
        #expect(fences.first?.learnedFrom.contains("the hello of standby") == true)
    }

    @Test("a peer on the primary's address without the key cannot feed the standby: its welcome's proof fails, nothing is written")
    func standbyRefusesAPrimaryThatCannotProveTheKey() throws {
        let harness = try ReplicationHarness()
        try harness.primary.commit(3)
        let file = harness.primary.files["tranlog1.dbf"]!
        let (receiver, impostor) = try harness.receiverWithScriptedPrimary()
        impostor.send(.challenge(HelloProof.makeChallenge()))
        harness.loop.run()
        let welcome = Welcome(repositoryID: testRepository, position: LogPosition(epoch: .first, seqno: Seqno(3)), history: firstEpochHistory)
        impostor.send(.welcome(welcome), key: ReplicationKey(bytes: Array("not-the-replication-key-at-all".utf8)))
        impostor.send(.fileStart(header: Array(file[..<FileHeader.size])))
        impostor.send(.records(RecordBatch(firstEventID: EventID(fileID: .first, offset: 128), frames: Array(file[FileHeader.size...]))))
        harness.loop.run()
        #expect(receiver.state == .waitingToReconnect)
        #expect(receiver.flushedSeqno == .zero)
        #expect(receiver.refusal?.message.contains("did not prove it holds the replication key") == true, "\(String(describing: receiver.refusal))")
        #expect(impostor.closeReason == .peerClosed)
    }

    @Test("a standby that has seen epoch 2 refuses the welcome of a primary whose history ends in epoch 1, saying so in status")
    func standbyRefusesAPrimaryOfAnOlderEpoch() throws {
        let harness = try ReplicationHarness()
        let (receiver, primary) = try harness.receiverWithScriptedPrimary(history: forkedHistory())
        primary.send(.challenge(HelloProof.makeChallenge()))
        harness.loop.run()  // the hello, whose challenge the welcome signs
        primary.send(.welcome(Welcome(repositoryID: testRepository, position: LogPosition(epoch: .first, seqno: Seqno(20)), history: firstEpochHistory)))
        harness.loop.run()
        #expect(receiver.state == .waitingToReconnect)
        #expect(receiver.lastRejection == .fenced(detail: "its history ends in epoch 1, older than epoch 2 this standby has seen"))
        #expect(primary.closeReason == .peerClosed)
    }

    @Test func refusesAStandbyAhead() throws {
        let reason = try rejection(restoredTo: restored(to: 500, crc: 1))
        guard case .standbyAhead(let standby, let primary)? = reason else {
            Issue.record("\(String(describing: reason))")
            return
        }
        #expect(standby == Seqno(500) && primary < standby)
    }

    @Test func refusesAnotherProtocolVersion() throws {
        let harness = try ReplicationHarness()
        try harness.listen()
        let peer = try harness.scriptedStandby()
        peer.send(.foreignHello(protocolVersion: 9))
        harness.loop.run()
        #expect(peer.messages.last == .reject(.protocolVersion(primary: ReplicationProtocol.version, standby: 9)))
        #expect(peer.closeReason == .peerClosed)
    }

    @Test func garbageFromAStandbyClosesTheConnection() throws {
        let harness = try ReplicationHarness()
        try harness.listen()
        let peer = try harness.scriptedStandby()
        peer.sendBytes([0xff, 0xff, 0xff, 0xff, 2])
        harness.loop.run()
        #expect(peer.closeReason == .peerClosed)
        #expect(harness.shippers[0].status.state == .closed("closed locally: protocol violation: "
            + "message length 4294967295 is outside 9...\(ReplicationProtocol.maxStandbyMessageBytes)"))
    }

    @Test func silentStandbyIsDisconnected() throws {
        let harness = try ReplicationHarness()
        try harness.listen()
        let peer = try harness.scriptedStandby()
        harness.loop.advanceTime(by: .seconds(11))
        guard case .challenge? = peer.messages.first else {
            Issue.record("no challenge first")
            return
        }
        #expect(peer.closeReason == .peerClosed)
    }
}
