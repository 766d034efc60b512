import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

/// Preallocated segments (FORMATS: zero tail): the writer rotates into files prepared as zeros,
/// completed files end at their data, only the newest file may go on with zeros, and no crash
/// leaves a prepared file that a reader or the writer takes for a log.
@Suite struct PreallocationTests {
    static func preallocating(rotationBytes: Int = 2048) -> TranlogWriterConfiguration {
        var configuration = writerConfiguration(rotationBytes: rotationBytes)
        configuration.preallocatesSegments = true
        return configuration
    }

    /// 40 commits written with preallocation and the writer closed: the newest file has a zero tail.
    static func logEndingInAPreallocatedFile() throws -> (SimulatedFileSystem, TranlogFileRef) {
        let fileSystem = emptyLogFileSystem()
        let writer = try TranlogWriter(configuration: preallocating(), fileSystem: fileSystem, startIfEmpty: .newRepository)
        for index in 0..<40 { _ = try writer.appendAndWait(putCommit(index)) }
        try writer.close()
        return (fileSystem, try TranlogDirectory.scan(logDirectory, fileSystem: fileSystem).files.last!)
    }

    @Test func rotatesIntoZeroFilledFilesAndCompletedFilesEndAtTheirData() throws {
        let fileSystem = emptyLogFileSystem()
        let writer = try TranlogWriter(configuration: Self.preallocating(), fileSystem: fileSystem, startIfEmpty: .newRepository)
        let written = try (0..<60).map { try writer.appendAndWait(putCommit($0)) }
        try writer.close()

        let files = try TranlogDirectory.scan(logDirectory, fileSystem: fileSystem).files
        #expect(files.count >= 3, "60 commits of ~100 bytes rotate 2 KiB files")
        for file in files.dropLast() {
            #expect(try fileSystem.fileSize(file.path) == dataEnd(of: file, fileSystem), "\(file.fileID.fileName) keeps a zero tail")
        }
        let newest = files.last!
        #expect(try fileSystem.fileSize(newest.path) == 2048, "the newest file was rotated into: preallocated to the rotation size")
        #expect(try dataEnd(of: newest, fileSystem) < 2048)
        let log = try readLog(fileSystem)
        #expect(log.tornTail == nil, "a zero tail is the end of the data, not a torn tail")
        #expect(log.records.filter { $0.header.kind == .commit }.map(\.seqno) == written.map(\.seqno))
    }

    @Test func aReopenedWriterContinuesOverTheZeros() throws {
        let (fileSystem, newest) = try Self.logEndingInAPreallocatedFile()
        let endBefore = try dataEnd(of: newest, fileSystem)

        let reopened = try TranlogWriter(configuration: Self.preallocating(), fileSystem: fileSystem)
        let next = try reopened.appendAndWait(putCommit(40))
        try reopened.close()

        #expect(next.eventID == EventID(fileID: newest.fileID, offset: endBefore), "written where the data ended, not after the zeros")
        #expect(try fileSystem.fileSize(newest.path) == 2048, "the file did not grow")
        #expect(try readLog(fileSystem).records.last?.seqno == next.seqno)
        #expect(try fileSystem.contentsOfDirectory(logDirectory).allSatisfy { !$0.hasSuffix(".preallocated") })
    }

    @Test func aGrowingFileIsLeftForAPreparedOneOnceItHasTakenEnoughAppends() throws {
        let fileSystem = emptyLogFileSystem()
        var configuration = Self.preallocating(rotationBytes: 1 << 20)
        configuration.leavesGrowingFileAfter = 5
        let writer = try TranlogWriter(configuration: configuration, fileSystem: fileSystem, startIfEmpty: .newRepository)
        var written = try (0..<5).map { try writer.appendAndWait(putCommit($0)) }
        #expect(writer.currentFileID == .first, "fewer appends than the threshold: nothing is prepared")
        #expect(try fileSystem.contentsOfDirectory(logDirectory).allSatisfy { !$0.hasSuffix(".preallocated") })
        // The next file is prepared in the background; the writer moves into it at the first append
        // after it is ready, and until then keeps appending to the growing file.
        let deadline = ContinuousClock.now + .seconds(30)
        while writer.currentFileID == .first, ContinuousClock.now < deadline {
            written.append(try writer.appendAndWait(putCommit(written.count)))
        }
        for index in 0..<10 { written.append(try writer.appendAndWait(putCommit(written.count + index))) }
        try writer.close()

        let files = try TranlogDirectory.scan(logDirectory, fileSystem: fileSystem).files
        #expect(files.map(\.fileID) == [.first, FileID.first.next], "left for a prepared file, long before 1 MiB")
        #expect(try fileSystem.fileSize(files[0].path) == dataEnd(of: files[0], fileSystem), "the left file ends at its data")
        #expect(try fileSystem.fileSize(files[1].path) == 1 << 20, "the prepared file has its zero tail")
        let log = try readLog(fileSystem)
        #expect(log.tornTail == nil)
        #expect(log.records.filter { $0.header.kind == .commit }.map(\.seqno) == written.map(\.seqno))
        #expect(log.records.filter { $0.header.kind == .fileEnd }.count == 1)

        // Reopened over the zero tail, the writer is in a prepared file: it stays there.
        let reopened = try TranlogWriter(configuration: configuration, fileSystem: fileSystem)
        for index in 0..<10 { _ = try reopened.appendAndWait(putCommit(1000 + index)) }
        #expect(reopened.currentFileID == files[1].fileID)
        try reopened.close()
    }

    @Test func aZeroTailInAFileThatIsNotTheNewestIsATruncatedLog() throws {
        let fileSystem = emptyLogFileSystem()
        try writeLog(fileSystem, commits: 40)
        let files = try TranlogDirectory.scan(logDirectory, fileSystem: fileSystem).files
        let older = files[0].path
        fileSystem.overwrite(older, with: fileSystem.contents(of: older)! + [UInt8](repeating: 0, count: 300))

        let error = expectTranlogError { _ = try readLog(fileSystem) }
        #expect(error.map { "\($0)" }?.contains(files[0].fileID.fileName) == true, "\(String(describing: error))")
    }

    /// A promote after a copy of a running primary's directory: the file it follows had a zero tail,
    /// which must go before the new epoch's file makes it an older file.
    @Test func aNewEpochCutsTheZeroTailOfTheFileItFollows() throws {
        let (fileSystem, newest) = try Self.logEndingInAPreallocatedFile()
        let end = try dataEnd(of: newest, fileSystem)
        let last = try #require(try readLog(fileSystem).records.last)
        let start = ChainStart(fileID: FileID(newest.fileID.rawValue + 2), epoch: Epoch(2), previousLastSeqno: last.seqno, previousLastRecordCRC: last.crc)
        let (writer, _) = try TranlogWriter.beginningEpoch(start, parent: .first, configuration: Self.preallocating(), fileSystem: fileSystem)
        try writer.close()
        #expect(try fileSystem.fileSize(newest.path) == end)
        _ = try verifyTranlogChain(logDirectory, fileSystem: fileSystem)
    }

    @Test func aLeftoverPreparedFileIsNeverALogAndIsRemovedAtOpen() throws {
        let fileSystem = emptyLogFileSystem()
        try writeLog(fileSystem, commits: 5)
        let leftover = logDirectory.appending("tranlog2.dbf.preallocated")
        fileSystem.overwrite(leftover, with: [UInt8](repeating: 0, count: 700))

        #expect(try TranlogDirectory.scan(logDirectory, fileSystem: fileSystem).files.map(\.fileID) == [FileID(1)])
        let writer = try TranlogWriter(configuration: Self.preallocating(), fileSystem: fileSystem)
        try writer.close()
        #expect(!fileSystem.fileExists(leftover))
    }

    @Test func aTornWriteOverTheZerosIsCutAndOnlyTheDamageIsKept() throws {
        let (fileSystem, newest) = try Self.logEndingInAPreallocatedFile()
        let end = Int(try dataEnd(of: newest, fileSystem))
        var bytes = fileSystem.contents(of: newest.path)!
        bytes.replaceSubrange(end..<end + 10, with: [0x50, 0, 0, 0, 1, 0, 1, 0, 9, 9])  // half a frame
        fileSystem.overwrite(newest.path, with: bytes)

        let reopened = try TranlogWriter(configuration: Self.preallocating(), fileSystem: fileSystem)
        try reopened.close()
        #expect(reopened.repairedTornTail?.offset == UInt64(end))
        let copy = FilePath(newest.path.string + ".torn-at-\(end)")
        #expect(fileSystem.contents(of: copy) == [0x50, 0, 0, 0, 1, 0, 1, 0, 9, 9], "the copy holds the damage, not the zeros after it")
        #expect(try readLog(fileSystem).tornTail == nil)
    }

    /// Kill -9 at every durable step of rotations into prepared files (their preparation included):
    /// every acknowledged commit survives, the reopened writer goes on, completed files end at
    /// their data and no prepared file is left.
    @Test func aCrashAtEveryStepOfPreallocatedRotationsLosesNothing() async throws {
        let steps = try await CrashStepHarness(
            name: "preallocated rotation",
            setUp: { fileSystem in
                try fileSystem.createDirectory(logDirectory)
                let writer = try TranlogWriter(configuration: Self.preallocating(), fileSystem: fileSystem, startIfEmpty: .newRepository)
                _ = try writer.appendAndWait(putCommit(0))  // below half a file: nothing prepared yet
                return RotationCrashFixture(writer: writer)
            },
            operation: { _, fixture in
                defer { try? fixture.writer.close() }
                for index in 1..<50 { fixture.acknowledged.append(try fixture.writer.appendAndWait(putCommit(index)).seqno) }
                try fixture.writer.close()
            },
            check: { disk, fixture, crash in
                let reopened = try TranlogWriter(configuration: Self.preallocating(), fileSystem: disk)
                #expect(try disk.contentsOfDirectory(logDirectory).allSatisfy { !$0.hasSuffix(".preallocated") }, "\(crash)")
                let after = try reopened.appendAndWait(putCommit(99))
                try reopened.close()
                let records = try verifyTranlogChain(logDirectory, fileSystem: disk)
                let seqnos = Set(records.map(\.seqno))
                for seqno in fixture.acknowledged { #expect(seqnos.contains(seqno), "acknowledged seqno \(seqno) lost: \(crash)") }
                #expect(records.last?.seqno == after.seqno, "\(crash)")
                let files = try TranlogDirectory.scan(logDirectory, fileSystem: disk).files
                for file in files.dropLast() {
                    #expect(try disk.fileSize(file.path) == dataEnd(of: file, disk), "\(file.fileID.fileName) keeps a zero tail: \(crash)")
                }
            }
        ).run()
        print("preallocated rotation: crashed after each of its \(steps) durable steps")
    }
}

final class RotationCrashFixture: @unchecked Sendable {
    let writer: TranlogWriter
    var acknowledged: [Seqno] = []

    init(writer: TranlogWriter) { self.writer = writer }
}

/// Where the records of `file` end, read as the newest file (a zero tail ends its data).
func dataEnd(of file: TranlogFileRef, _ fileSystem: any TranlogFileSystem) throws -> UInt64 {
    var cursor = TranlogCursor(directory: TranlogDirectory(description: file.path.string, files: [file]), fileSystem: fileSystem)
    while try cursor.next() != nil {}
    return cursor.endOfLastRecord
}
