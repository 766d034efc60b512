import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

/// Collects completions from the writer's completion thread.
final class CompletionLog: @unchecked Sendable {
    private let condition = NSCondition()
    private var results: [Result<AppendedRecord, TranlogError>] = []

    var completion: TranlogWriter.Completion {
        { result in
            self.condition.withLock {
                self.results.append(result)
                self.condition.broadcast()
            }
        }
    }

    var count: Int { condition.withLock { results.count } }

    /// Waits (with a generous deadline, never a fixed sleep) until `count` completions arrived.
    func waitFor(_ count: Int, deadline: Duration = .seconds(30)) -> [Result<AppendedRecord, TranlogError>] {
        condition.withLock {
            let limit = Date().addingTimeInterval(Double(deadline.components.seconds))
            while results.count < count && condition.wait(until: limit) {}
            return results
        }
    }
}

@Suite struct WriterTests {
    static func openWriter(_ fileSystem: SimulatedFileSystem, rotationBytes: Int = 1 << 20) throws -> TranlogWriter {
        try TranlogWriter(configuration: writerConfiguration(rotationBytes: rotationBytes), fileSystem: fileSystem, startIfEmpty: .newRepository)
    }

    @Test func groupCommitSharesOneSyncAndAcknowledgesOnlyAfterIt() throws {
        let fileSystem = emptyLogFileSystem()
        let writer = try Self.openWriter(fileSystem)
        let syncsBefore = fileSystem.fileSyncCount
        let log = CompletionLog()
        fileSystem.pauseSyncs()
        writer.append(putCommit(0), completion: log.completion)
        try #require(fileSystem.waitForPausedSyncs(1), "no sync reached the paused gate")
        for index in 1...20 { writer.append(putCommit(index), completion: log.completion) }
        #expect(log.count == 0, "nothing may be acknowledged while its sync has not returned")
        #expect(writer.lastDurableSeqno == .zero)
        fileSystem.resumeSyncs()
        let results = log.waitFor(21)
        let seqnos = try results.map { try $0.get().seqno.rawValue }
        #expect(seqnos == Array(1...21), "acknowledged in log order")
        #expect(fileSystem.fileSyncCount - syncsBefore == 2, "one sync for the first record, one shared by the other 20")
        #expect(writer.lastDurableSeqno == Seqno(21))
        try writer.close()
    }

    @Test func failedSyncIsFatalAndNothingIsAcknowledged() throws {
        let fileSystem = emptyLogFileSystem()
        let writer = try Self.openWriter(fileSystem)
        let durable = try writer.appendAndWait(putCommit(0))
        let log = CompletionLog()
        fileSystem.pauseSyncs()
        writer.append(putCommit(1), completion: log.completion)
        try #require(fileSystem.waitForPausedSyncs(1), "no sync reached the paused gate")
        writer.append(putCommit(2), completion: log.completion)
        fileSystem.failSyncs(afterSuccessful: 0)
        fileSystem.resumeSyncs()
        let results = log.waitFor(2)
        for result in results {
            guard case .failure(.writerFailed(let reason)) = result else {
                Issue.record("expected writerFailed, got \(result)")
                continue
            }
            #expect(reason.contains("syncing \(path(1).string) failed"))
        }
        #expect(writer.lastDurableSeqno == durable.seqno)
        let later = expectTranlogError { _ = try writer.appendAndWait(putCommit(3)) }
        #expect(later?.description.contains("accepts no more records") == true)
        #expect(expectTranlogError { try writer.close() } != nil)
    }

    @Test func fullDiskFailsTheCommitAndKeepsWhatWasDurable() throws {
        let fileSystem = emptyLogFileSystem()
        let writer = try Self.openWriter(fileSystem)
        let durable = try (0..<5).map { try writer.appendAndWait(putCommit($0)) }
        fileSystem.limitFreeSpace(to: 50)
        let error = expectTranlogError { _ = try writer.appendAndWait(putCommit(5)) }
        #expect(error?.description.contains("No space left on device") == true)
        let readable = try readLog(fileSystem)
        #expect(readable.records.map(\.seqno) == durable.map(\.seqno), "reads keep working and nothing durable is lost")
    }

    @Test func rotatesBeforeAFileWouldPassTheLimit() throws {
        let fileSystem = emptyLogFileSystem()
        let writer = try Self.openWriter(fileSystem, rotationBytes: 1024)
        for index in 0..<30 { _ = try writer.appendAndWait(putCommit(index)) }
        let big = try writer.appendAndWait(.commit([.put(key: [1], value: [UInt8](repeating: 7, count: 3000))]))
        try writer.close()
        let directory = try TranlogDirectory.scan(logDirectory, fileSystem: fileSystem)
        #expect(directory.files.count >= 4)
        for ref in directory.files where ref.fileID != big.eventID.fileID {
            #expect(fileSystem.contents(of: ref.path)!.count <= 1024, "\(ref.fileID.fileName) passed the rotation size")
        }
        #expect(big.eventID.offset == UInt64(FileHeader.size), "a record larger than the limit starts a file of its own")
        #expect(try readLog(fileSystem).records.count == 31 + directory.files.count - 1)
    }

    @Test func reopenedWriterContinuesTheChain() throws {
        let fileSystem = emptyLogFileSystem()
        let first = try writeLog(fileSystem, commits: 10, rotationBytes: 1 << 20)
        let writer = try TranlogWriter(configuration: writerConfiguration(rotationBytes: 1 << 20), fileSystem: fileSystem)
        let next = try writer.appendAndWait(putCommit(10))
        try writer.close()
        #expect(next.seqno == first.last!.seqno.next)
        #expect(next.eventID.fileID == first.last!.eventID.fileID)
        #expect(try readLog(fileSystem).records.count == 11)
    }

    @Test func emptyDirectoryWithoutAStartIsRefused() {
        let fileSystem = emptyLogFileSystem()
        let error = expectTranlogError { _ = try TranlogWriter(configuration: writerConfiguration(), fileSystem: fileSystem) }
        #expect(error == .noLogs(directory: logDirectory.string))
    }

    @Test func aNewEpochStartsAboveEveryFileChainedToTheRestorePoint() throws {
        let fileSystem = emptyLogFileSystem()
        let restorePoint = try writeLog(fileSystem, commits: 3).last!
        let start = ChainStart(fileID: FileID(5), epoch: Epoch(2), previousLastSeqno: restorePoint.seqno, previousLastRecordCRC: restorePoint.crc)
        let (writer, begin) = try TranlogWriter.beginningEpoch(start, parent: .first, configuration: writerConfiguration(), fileSystem: fileSystem)
        #expect(begin.eventID == EventID(fileID: FileID(5), offset: UInt64(FileHeader.size)))
        #expect(begin.seqno == restorePoint.seqno.next && begin.epoch == Epoch(2))
        _ = try writer.appendAndWait(putCommit(9))
        try writer.close()
        let records = try readLog(fileSystem).records
        #expect(records.map(\.header.kind) == [.commit, .commit, .commit, .epochBegin, .commit])
        #expect(records[3].body == .epochBegin(EpochBeginInfo(epoch: Epoch(2), parentEpoch: .first, forkSeqno: restorePoint.seqno)))
        #expect(records.map(\.header.epoch.rawValue) == [1, 1, 1, 2, 2])
    }

    @Test func aNewEpochMayNotReuseAFileIDOrGoBack() throws {
        let fileSystem = emptyLogFileSystem()
        let restorePoint = try writeLog(fileSystem, commits: 3).last!
        let reused = expectTranlogError {
            _ = try TranlogWriter.beginningEpoch(
                ChainStart(fileID: FileID(1), epoch: Epoch(2), previousLastSeqno: restorePoint.seqno, previousLastRecordCRC: restorePoint.crc),
                parent: .first, configuration: writerConfiguration(), fileSystem: fileSystem)
        }
        #expect(reused?.description.contains("a new epoch must start above tranlog1.dbf") == true)
        let backwards = expectTranlogError {
            _ = try TranlogWriter.beginningEpoch(
                ChainStart(fileID: FileID(2), epoch: .first, previousLastSeqno: restorePoint.seqno, previousLastRecordCRC: restorePoint.crc),
                parent: .first, configuration: writerConfiguration(), fileSystem: fileSystem)
        }
        #expect(backwards?.description.contains("is not after its parent epoch") == true)
    }

    /// The gap a new epoch may leave is allowed only when its header chains to the last record.
    @Test func aNewEpochThatDoesNotChainIsStillAMissingLog() throws {
        let fileSystem = emptyLogFileSystem()
        let restorePoint = try writeLog(fileSystem, commits: 3).last!
        let (writer, _) = try TranlogWriter.beginningEpoch(
            ChainStart(fileID: FileID(5), epoch: Epoch(2), previousLastSeqno: restorePoint.seqno, previousLastRecordCRC: restorePoint.crc ^ 1),
            parent: .first, configuration: writerConfiguration(), fileSystem: fileSystem)
        try writer.close()
        let error = expectTranlogError { _ = try readLog(fileSystem) }
        #expect(error?.description.starts(with: "end of all logs reached after fileId 1 before last log for recovery 5 found") == true)
    }

    @Test func recordsTheWriterOwnsCannotBeAppended() throws {
        let fileSystem = emptyLogFileSystem()
        let writer = try Self.openWriter(fileSystem)
        let error = expectTranlogError { _ = try writer.appendAndWait(.fileEnd) }
        #expect(error?.description.contains("written by the writer itself") == true)
        let oversize = expectTranlogError { _ = try writer.appendAndWait(.commit([.delete(key: [])])) }
        #expect(oversize == .recordOverLimits("operation 0: empty key"))
        try writer.close()
    }

    @Test func concurrentAsyncCommittersGetContiguousSeqnos() async throws {
        let fileSystem = emptyLogFileSystem()
        let writer = try Self.openWriter(fileSystem, rotationBytes: 4096)
        let seqnos = try await withThrowingTaskGroup(of: [Seqno].self) { group in
            for committer in 0..<16 {
                group.addTask {
                    var mine: [Seqno] = []
                    for index in 0..<25 { mine.append(try await writer.append(putCommit(committer * 100 + index)).seqno) }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        try writer.close()
        let records = try readLog(fileSystem).records
        let commitSeqnos = records.filter { $0.header.kind == .commit }.map(\.seqno)
        #expect(Set(seqnos) == Set(commitSeqnos))
        #expect(seqnos.count == 400)
        #expect(records.map(\.seqno.rawValue) == Array(1...UInt64(records.count)))
    }
}
