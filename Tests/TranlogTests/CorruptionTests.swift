import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

/// Table-driven damage (etcd's repair_test idea): each way a log can be damaged, with the outcome
/// it must have. Only a torn tail of the newest file is repaired; everything else is a precise error.
@Suite struct CorruptionTests {
    /// 60 commits in files 1...4 (rotation every ~19 records), each non-newest file ending in fileEnd.
    static func cleanLog() throws -> SimulatedFileSystem {
        let fileSystem = emptyLogFileSystem()
        try writeLog(fileSystem, commits: 60)
        return fileSystem
    }

    static func bytes(_ fileSystem: SimulatedFileSystem, _ fileID: UInt64) -> [UInt8] {
        fileSystem.contents(of: path(fileID))!
    }

    @Test func cleanLogReadsWhole() throws {
        let fileSystem = try Self.cleanLog()
        let directory = try TranlogDirectory.scan(logDirectory, fileSystem: fileSystem)
        #expect(directory.files.map(\.fileID.rawValue) == [1, 2, 3, 4])
        let result = try readLog(fileSystem)
        #expect(result.tornTail == nil)
        #expect(result.records.map(\.seqno.rawValue) == Array(1...63))
        #expect(result.records.filter { $0.header.kind == .commit }.count == 60)
        #expect(result.records.filter { $0.header.kind == .fileEnd }.map(\.eventID.fileID.rawValue) == [1, 2, 3])
    }

    @Test func tornTailOfNewestFileIsCutOffKeptAsideAndAppendsContinue() throws {
        let fileSystem = try Self.cleanLog()
        let original = Self.bytes(fileSystem, 4)
        fileSystem.overwrite(path(4), with: Array(original.dropLast(10)))
        let torn = try #require(try readLog(fileSystem).tornTail)
        #expect(torn.fileID == FileID(4))
        #expect(torn.description.contains("fileId 4"))
        let lastWhole = try readLog(fileSystem).records.last!.seqno

        let writer = try TranlogWriter(configuration: writerConfiguration(), fileSystem: fileSystem)
        #expect(writer.repairedTornTail?.offset == torn.offset)
        let next = try writer.appendAndWait(putCommit(1000))
        try writer.close()
        #expect(next.seqno == lastWhole.next)

        let keptAside = try #require(fileSystem.contents(of: FilePath(path(4).string + ".torn-at-\(torn.offset)")))
        #expect(keptAside == Array(original[Int(torn.offset)..<original.count - 10]))
        let reread = try readLog(fileSystem)
        #expect(reread.tornTail == nil)
        #expect(reread.records.last?.seqno == next.seqno)
    }

    /// A rotation's new file created, then the crash before any byte of its header: the newest file
    /// is empty. The writer sets it aside (an empty copy: nothing was written) and goes on from the
    /// file before it, which ended with its fileEnd.
    @Test func anEmptyNewestFileIsSetAsideAndTheWriterGoesOnFromTheFileBefore() throws {
        let fileSystem = try Self.cleanLog()
        fileSystem.overwrite(path(4), with: [])
        let torn = try #require(try readLog(fileSystem).tornTail)
        #expect(torn.fileID == FileID(4) && torn.offset == 0 && torn.byteCount == 0)
        let lastWhole = try readLog(fileSystem).records.last!.seqno

        let writer = try TranlogWriter(configuration: writerConfiguration(), fileSystem: fileSystem)
        #expect(writer.repairedTornTail?.offset == 0)
        let next = try writer.appendAndWait(putCommit(1000))
        try writer.close()
        #expect(next.seqno == lastWhole.next)
        #expect(fileSystem.contents(of: FilePath(path(4).string + ".torn-at-0")) == [])
        let reread = try readLog(fileSystem)
        #expect(reread.tornTail == nil)
        #expect(reread.records.last?.seqno == next.seqno)
    }

    @Test func flippedByteInAMiddleFileIsACorruptRecord() throws {
        let fileSystem = try Self.cleanLog()
        var damaged = Self.bytes(fileSystem, 2)
        damaged[600] ^= 0x40
        fileSystem.overwrite(path(2), with: damaged)
        let error = expectTranlogError { _ = try readLog(fileSystem) }
        guard case .corruptRecord(_, let fileID, let offset, let expected, .checksumMismatch) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(fileID == FileID(2))
        #expect(offset <= 600)
        let message = error!.description
        #expect(message.contains("corrupt record at offset \(offset) of fileId 2"))
        #expect(message.contains("seqno expected \(expected)"))
        #expect(message.contains("CRC mismatch"))
    }

    @Test func damageInTheNewestFileBeforeValidRecordsIsNotATornTail() throws {
        let fileSystem = try Self.cleanLog()
        var damaged = Self.bytes(fileSystem, 4)
        damaged[FileHeader.size + 20] ^= 0xFF
        fileSystem.overwrite(path(4), with: damaged)
        let error = expectTranlogError { _ = try readLog(fileSystem) }
        #expect(error?.description.contains("is damaged at offset 128") == true)
        #expect(error?.description.contains("not a torn tail") == true)
        let refused = expectTranlogError { _ = try TranlogWriter(configuration: writerConfiguration(), fileSystem: fileSystem) }
        #expect(refused == error)
        #expect(Self.bytes(fileSystem, 4) == damaged, "a refused repair must leave the file untouched")
    }

    @Test func deletedMiddleFileIsAMissingLog() throws {
        let fileSystem = try Self.cleanLog()
        try fileSystem.removeFile(path(2))
        let error = expectTranlogError { _ = try readLog(fileSystem) }
        #expect(error == .missingLog(after: FileID(1), lastFound: FileID(4), directory: logDirectory.string))
        #expect(error?.description.starts(with: "end of all logs reached after fileId 1 before last log for recovery 4 found") == true)
        #expect(error?.description.contains("tranlog2.dbf is missing") == true)
    }

    @Test(arguments: [("at a record boundary", 0), ("mid-record", 25)])
    func truncatedMiddleFileIsATruncatedLog(how: String, extraBytes: Int) throws {
        let fileSystem = try Self.cleanLog()
        let records = try readLog(fileSystem).records
        let fileEnd = try #require(records.first { $0.header.kind == .fileEnd && $0.eventID.fileID == FileID(2) })
        let cut = Int(fileEnd.eventID.offset) - extraBytes
        fileSystem.overwrite(path(2), with: Array(Self.bytes(fileSystem, 2)[0..<cut]))
        let error = expectTranlogError { _ = try readLog(fileSystem) }
        guard case .truncatedLog(let fileID, let next, _) = error else {
            Issue.record("\(how): unexpected \(String(describing: error))")
            return
        }
        #expect(fileID == FileID(2) && next == FileID(3))
        #expect(error!.description.starts(with: "log with fileId 2 is truncated or corrupt, or log 3 is corrupt"))
    }

    @Test func fileFromAnotherRepositoryIsRefused() throws {
        let fileSystem = try Self.cleanLog()
        let foreign = emptyLogFileSystem()
        try writeLog(foreign, commits: 60, repository: otherRepository)
        fileSystem.overwrite(path(3), with: foreign.contents(of: path(3))!)
        let error = expectTranlogError { _ = try readLog(fileSystem) }
        #expect(error == .otherRepository(file: path(3).string, found: otherRepository, expected: testRepository))
        #expect(error?.description.contains("belongs to repository \(otherRepository), not \(testRepository)") == true)
    }

    @Test func fileFromAnotherHistoryOfTheSameRepositoryBreaksTheChain() throws {
        let fileSystem = try Self.cleanLog()
        let otherHistory = emptyLogFileSystem()
        let writer = try TranlogWriter(configuration: writerConfiguration(), fileSystem: otherHistory, startIfEmpty: .newRepository)
        for index in 0..<60 { _ = try writer.appendAndWait(putCommit(index + 7)) }
        try writer.close()
        fileSystem.overwrite(path(3), with: otherHistory.contents(of: path(3))!)
        let error = expectTranlogError { _ = try readLog(fileSystem) }
        guard case .truncatedLog(FileID(2), FileID(3), let detail) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(detail.contains("CRC"))
    }

    @Test func misnamedFileIsRefused() throws {
        let fileSystem = try Self.cleanLog()
        fileSystem.overwrite(path(5), with: Self.bytes(fileSystem, 3))
        let error = expectTranlogError { _ = try readLog(fileSystem) }
        #expect(error == .misnamedFile(file: path(5).string, headerFileID: FileID(3)))
    }

    @Test func corruptHeaderOfAMiddleFileIsNamed() throws {
        let fileSystem = try Self.cleanLog()
        var damaged = Self.bytes(fileSystem, 2)
        damaged[45] ^= 0x01
        fileSystem.overwrite(path(2), with: damaged)
        let error = expectTranlogError { _ = try readLog(fileSystem) }
        #expect(error?.description.starts(with: "\(path(2).string): corrupt tranlog header: header CRC mismatch") == true)
    }

    @Test func compressedLogsReadTheSameAsPlainOnes() throws {
        let fileSystem = try Self.cleanLog()
        let plain = try readLog(fileSystem)
        for fileID in 1...3 as ClosedRange<UInt64> {
            fileSystem.overwrite(FilePath(path(fileID).string + ".gz"), with: Gzip.compress(Self.bytes(fileSystem, fileID)))
            try fileSystem.removeFile(path(fileID))
        }
        let directory = try TranlogDirectory.scan(logDirectory, fileSystem: fileSystem)
        #expect(directory.files.map(\.isCompressed) == [true, true, true, false])
        let compressed = try readLog(fileSystem)
        #expect(compressed.records.map(\.seqno) == plain.records.map(\.seqno))
        #expect(compressed.records.map(\.crc) == plain.records.map(\.crc))
        #expect(compressed.records.map(\.eventID) == plain.records.map(\.eventID))
    }

    @Test func truncatedArchiveIsUnreadable() throws {
        let fileSystem = try Self.cleanLog()
        let archive = Gzip.compress(Self.bytes(fileSystem, 1))
        fileSystem.overwrite(FilePath(path(1).string + ".gz"), with: Array(archive.dropLast(archive.count / 2)))
        try fileSystem.removeFile(path(1))
        let error = expectTranlogError { _ = try readLog(fileSystem) }
        #expect(error?.description.starts(with: "\(path(1).string).gz cannot be decompressed") == true)
    }

    /// A frame with a valid CRC that breaks a limit (a writer bug or a forged file) is refused on read.
    @Test func limitsAreEnforcedOnRead() throws {
        let fileSystem = try Self.cleanLog()
        let source = Array(testSource.name.utf8)
        let payload: [UInt8] = [1, 0, 0, 0, 2, 0x01, 0x04] + [UInt8](repeating: 0x61, count: 1025)
        var frame = [UInt8](repeating: 0, count: 36) + source + payload
        frame.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(frame.count + 4).littleEndian, Array.init))
        frame[4] = RecordKind.commit.rawValue
        frame[6] = UInt8(source.count)
        frame += withUnsafeBytes(of: Checksum.crc32(frame).littleEndian, Array.init)
        var middle = Self.bytes(fileSystem, 2)
        middle.insert(contentsOf: frame, at: FileHeader.size)
        fileSystem.overwrite(path(2), with: middle)
        let error = expectTranlogError { _ = try readLog(fileSystem) }
        guard case .corruptRecord(_, FileID(2), 128, _, .malformedPayload(.commit, let reason)) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(reason == "operation 0: key of 1025 bytes exceeds the limit of 1024")
    }

    /// `nextHeader` (a standby's mirror on start) reads the frames `next` reads, ends at the same
    /// offset and reports the same torn tail or damage, without decoding bodies.
    @Test func headersOnlyReadWhatRecordsRead() throws {
        func headers(_ fileSystem: SimulatedFileSystem) throws(TranlogError) -> (headers: [FrameHeader], end: UInt64, torn: TornTail?) {
            var cursor = TranlogCursor(directory: try TranlogDirectory.scan(logDirectory, fileSystem: fileSystem), fileSystem: fileSystem)
            var headers: [FrameHeader] = []
            while let header = try cursor.nextHeader() { headers.append(header) }
            return (headers, cursor.endOfLastRecord, cursor.tornTail)
        }
        func outcome(_ body: () throws(TranlogError) -> Void) -> TranlogError? {
            do throws(TranlogError) {
                try body()
                return nil
            } catch {
                return error
            }
        }
        let clean = try Self.cleanLog()
        let records = try readLog(clean)
        let read = try headers(clean)
        #expect(read.headers == records.records.map(\.record.frameHeader))
        #expect(read.headers.count == 63)

        let torn = try Self.cleanLog()
        torn.overwrite(path(4), with: Array(Self.bytes(torn, 4).dropLast(10)))
        let tornRead = try headers(torn)
        #expect(tornRead.torn != nil)
        #expect(tornRead.torn == (try readLog(torn)).tornTail)
        #expect(tornRead.headers.last?.seqno == (try readLog(torn)).records.last?.seqno)
        #expect(tornRead.end == tornRead.torn?.offset)

        let damaged = try Self.cleanLog()
        var bytes = Self.bytes(damaged, 2)
        bytes[600] ^= 0x40
        damaged.overwrite(path(2), with: bytes)
        let headerError = outcome { () throws(TranlogError) in _ = try headers(damaged) }
        #expect(headerError != nil)
        #expect(headerError == outcome { () throws(TranlogError) in _ = try readLog(damaged) })
    }
}
