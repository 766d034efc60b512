import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting
@testable import Repository

/// `position show` and `position set` on a simulated data directory: what is reported, what is stored,
/// and every refusal.
@Suite struct PositionTests {
    private let directory = DataDirectory(nodeRoot)

    /// A stopped repository with ten commits (seqnos 1…10) and the checkpoint and shutdown of its close.
    private func stoppedRepository() async throws -> SimulatedFileSystem {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem)
        for index in 1...10 { _ = try await repository.commit(put("k\(index)", "v\(index)")) }
        try repository.close()
        return fileSystem
    }

    private func record(_ seqno: UInt64, in fileSystem: SimulatedFileSystem) throws -> RecordHeaders {
        let logs = try TranlogDirectory.scan(directory.tranlogs, fileSystem: fileSystem)
        return RecordHeaders(try RecordSearch.find(.seqno(Seqno(seqno)), in: logs, fileSystem: fileSystem).get())
    }

    private func manifest(_ fileSystem: SimulatedFileSystem) throws -> Manifest {
        try #require(try ManifestStore.read(directory: directory.extents, fileSystem: fileSystem))
    }

    private func set(_ request: PositionRequest, _ fileSystem: SimulatedFileSystem) throws(PositionError) -> PositionChange {
        try Repository.setPosition(request, in: directory, fileSystem: fileSystem)
    }

    private func refusals(_ request: PositionRequest, _ fileSystem: SimulatedFileSystem) throws -> [PositionRefusal] {
        let before = try manifest(fileSystem)
        defer { #expect((try? manifest(fileSystem)) == before, "a refused position must leave MANIFEST as it was") }
        do {
            _ = try set(request, fileSystem)
        } catch .refused(let refusals) {
            return refusals
        } catch {
            Issue.record("expected a refusal, got \(error)")
        }
        return []
    }

    @Test func showOnAFreshDirectory() throws {
        let report = try PositionReport.inspect(directory, fileSystem: try initializedFileSystem())
        #expect(report.applied.seqno == .zero)
        #expect(report.tranlogs.span.records == 0)
        #expect(report.tranlogs.files == ["tranlog1.dbf"])
        #expect(report.coverage.ok, "\(report.coverage.detail)")
        #expect(report.lock.heldByLiveProcess == false)
        #expect(!report.restoreMode)
        #expect(report.epochs.map(\.epoch) == [.first])
    }

    @Test func showAfterCommitsAndACheckpointOnAnOpenRepository() async throws {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem)
        defer { try? repository.close() }
        for index in 1...6 { _ = try await repository.commit(put("k\(index)", "v\(index)")) }
        let checkpoint = try #require(try repository.checkpoint()).checkpoint
        _ = try await repository.commit(put("after", "checkpoint"))

        let report = try PositionReport.inspect(directory, fileSystem: fileSystem)
        #expect(report.lock.heldByLiveProcess == true, "the open repository holds the lock: \(report.lock.detail)")
        #expect(report.applied == checkpoint)
        #expect(report.tranlogs.appliedRecord?.recordCRC == checkpoint.recordCRC)
        #expect(report.tranlogs.appliedRecordMatches?.ok == true)
        #expect(report.tranlogs.span.last?.seqno == repository.status.applied.seqno)
        #expect(report.coverage.ok)
        #expect(report.coverage.detail.hasPrefix("\(checkpoint.seqno.next)…\(repository.status.applied.seqno) without a gap"))
    }

    @Test func showReportsATornTailAndDamagePrecisely() async throws {
        let fileSystem = try await stoppedRepository()
        let file = directory.tranlogs.appending("tranlog1.dbf")
        let intact = try fileSystem.readFile(file)
        try fileSystem.replaceFile(file, contents: (intact + [0x17, 0x00, 0x00])[...])
        let torn = try PositionReport.inspect(directory, fileSystem: fileSystem)
        #expect(torn.tranlogs.tornTail?.contains("torn tail of 3 bytes at offset \(intact.count)") == true, "\(String(describing: torn.tranlogs.tornTail))")
        #expect(torn.tranlogs.damage == nil)
        #expect(torn.coverage.ok)

        // A byte flipped inside seqno 3, with valid records after it: damage, not a torn tail.
        let third = try record(3, in: fileSystem)
        var damaged = intact
        damaged[Int(third.eventID.offset) + 20] ^= 0xFF
        try fileSystem.replaceFile(file, contents: damaged[...])
        let report = try PositionReport.inspect(directory, fileSystem: fileSystem)
        #expect(report.tranlogs.damage?.contains("damaged at offset \(third.eventID.offset)") == true, "\(String(describing: report.tranlogs.damage))")
        #expect(report.tranlogs.span.last?.seqno == Seqno(2))
        #expect(!report.coverage.ok)
        #expect(report.coverage.detail.hasPrefix("readable only through seqno 2: "), "\(report.coverage.detail)")
    }

    @Test func setTakesTheLocalRecordAndTheRepositoryReplaysFromIt() async throws {
        let fileSystem = try await stoppedRepository()
        let wanted = try record(4, in: fileSystem)
        let change = try set(PositionRequest(seqno: Seqno(4), epoch: .first), fileSystem)
        #expect(change.stored == wanted.position)
        #expect(change.localRecord == wanted)
        #expect(change.forced.isEmpty)
        #expect(try manifest(fileSystem).checkpoint == wanted.position)
        #expect(try manifest(fileSystem).oldestFileIDNeeded == wanted.eventID.fileID)

        // The extents reflect more than seqno 4 here; replaying 5… again puts the same values back.
        let repository = try openRepository(fileSystem)
        defer { try? repository.close() }
        #expect(repository.get(bytes("k10"))?.value == bytes("v10"))
    }

    @Test func setIsRefusedWhileTheRepositoryIsOpen() async throws {
        let fileSystem = try await stoppedRepository()
        let repository = try openRepository(fileSystem)
        defer { try? repository.close() }
        #expect {
            try set(PositionRequest(seqno: Seqno(4), epoch: .first), fileSystem)
        } throws: { error in
            guard case PositionError.nodeRunning = error else { return false }
            return "\(error)".contains("stop the node (or take the standby offline and stop it) first")
        }
    }

    @Test func setRefusesPositionsTheEpochHistoryContradicts() async throws {
        let fileSystem = try await stoppedRepository()
        var history = try EpochHistoryStore.read(directory.epochsFile, fileSystem: fileSystem)
        try history.append(EpochEntry(epoch: Epoch(2), startSeqno: Seqno(8), parentEpoch: .first, time: .now(), sourceID: nodeSource))
        try EpochHistoryStore.write(history, to: directory.epochsFile, fileSystem: fileSystem)

        // Each also contradicts the local record of that seqno (epoch 1), which is refused too.
        #expect(try refusals(PositionRequest(seqno: Seqno(4), epoch: Epoch(3)), fileSystem).first
            == .epochNotInHistory(epoch: Epoch(3), history: [.first, Epoch(2)]))
        #expect(try refusals(PositionRequest(seqno: Seqno(5), epoch: Epoch(2)), fileSystem).first
            == .epochStartsLater(epoch: Epoch(2), startSeqno: Seqno(8), seqno: Seqno(5)))
        #expect(try refusals(PositionRequest(seqno: Seqno(8), epoch: .first), fileSystem)
            == [.laterEpochBegan(epoch: .first, later: history.entries[1], seqno: Seqno(8))])
        // The history now says seqno 9 is of epoch 2, the local record says epoch 1.
        let local = try record(9, in: fileSystem)
        #expect(try refusals(PositionRequest(seqno: Seqno(9), epoch: Epoch(2)), fileSystem)
            == [.localRecordDiffers(field: "epoch", local: "1", given: "2", record: local)])
    }

    @Test func setRefusesPositionsTheLocalLogsContradict() async throws {
        let fileSystem = try await stoppedRepository()
        let third = try record(3, in: fileSystem)
        let fourth = try record(4, in: fileSystem)
        #expect(try refusals(PositionRequest(seqno: Seqno(4), epoch: .first, eventID: third.eventID), fileSystem)
            == [.localRecordDiffers(field: "event id", local: "\(fourth.eventID)", given: "\(third.eventID)", record: fourth)])
        #expect(try refusals(PositionRequest(seqno: Seqno(4), epoch: .first, recordCRC: 0x1234), fileSystem)
            == [.localRecordDiffers(field: "CRC", local: hex(fourth.recordCRC), given: "0x00001234", record: fourth)])
        // Seqno 1000 is not local, but the event id given starts seqno 3 here.
        #expect(try refusals(PositionRequest(seqno: Seqno(1000), epoch: .first, eventID: third.eventID, recordCRC: 0x1234), fileSystem)
            == [.eventIDPointsElsewhere(eventID: third.eventID, record: third, seqno: Seqno(1000))])
        let inside = EventID(fileID: third.eventID.fileID, offset: third.eventID.offset + 1)
        let refused = try refusals(PositionRequest(seqno: Seqno(1000), epoch: .first, eventID: inside, recordCRC: 0x1234), fileSystem)
        guard case .noRecordAtEventID(let notFound)? = refused.first else {
            Issue.record("expected noRecordAtEventID, got \(refused)")
            return
        }
        #expect(notFound.recordBefore == third)
    }

    @Test func aPositionWithoutItsRecordCRCIsNeverStored() async throws {
        let fileSystem = try await stoppedRepository()
        for force in [false, true] {
            #expect {
                try set(PositionRequest(seqno: Seqno(1000), epoch: .first, force: force), fileSystem)
            } throws: { error in
                guard case PositionError.recordCRCUnknown(let seqno, _) = error else { return false }
                return seqno == Seqno(1000) && "\(error)".contains("tranlog find --node PRIMARY_URL --seqno 1000")
            }
        }
        #expect(throws: PositionError.self) { try set(PositionRequest(seqno: .zero, epoch: .first), fileSystem) }
    }

    @Test func forceStoresAContradictedPositionWithTheCRCGiven() async throws {
        let fileSystem = try await stoppedRepository()
        let third = try record(3, in: fileSystem)
        let request = PositionRequest(seqno: Seqno(1000), epoch: .first, eventID: third.eventID, recordCRC: 0xABCD, force: true)
        let change = try set(request, fileSystem)
        #expect(change.forced.count == 1)
        #expect(change.localRecord == nil)
        let stored = try manifest(fileSystem).checkpoint
        #expect(stored == AppliedPosition(seqno: Seqno(1000), epoch: .first, eventID: third.eventID, sourceID: nil, time: nil, recordCRC: 0xABCD))
        #expect(change.notes.contains { $0.contains("is not in restore mode") })
    }

    @Test func searchSaysWhatTheLogsHoldWhenARecordIsNotThere() async throws {
        let fileSystem = try await stoppedRepository()
        let logs = try TranlogDirectory.scan(directory.tranlogs, fileSystem: fileSystem)
        guard case .failure(let notFound) = try RecordSearch.find(.seqno(Seqno(900)), in: logs, fileSystem: fileSystem) else {
            Issue.record("seqno 900 should not be found")
            return
        }
        let last = try #require(notFound.span.last)
        #expect(notFound.description.hasPrefix("seqno 900 is not in the tranlogs in \(directory.tranlogs.string): they hold 1…\(last.seqno) (tranlog1.dbf)"))
        let early = Timestamp(microsecondsSinceEpoch: 0)
        #expect(try RecordSearch.find(.time(early), in: logs, fileSystem: fileSystem).get().seqno == Seqno(1))
    }
}
