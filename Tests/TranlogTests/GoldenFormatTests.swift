import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

/// Pins format version 1 byte for byte. The golden files were written by this code and checked
/// against docs/FORMATS.md; a shipped format is frozen, so a change that breaks these tests is a
/// format change (new version), not a test to update. To regenerate deliberately:
/// `UNDERSTUDY_UPDATE_GOLDEN=1 swift test --filter GoldenFormatTests`.
@Suite struct GoldenFormatTests {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let goldenFiles = ["tranlog1.dbf", "tranlog2.dbf", "tranlog4.dbf"]

    /// A small log with every record kind, written with a fixed clock and repository id: a rotation
    /// (fileEnd), then a new epoch opened in tranlog4.dbf (fileIds are never reused, so a new epoch
    /// may skip numbers) chained to the last record of tranlog2.dbf.
    static func writeReferenceLog() throws -> SimulatedFileSystem {
        let fileSystem = emptyLogFileSystem()
        let clock = SteppingClock()
        let writer = try TranlogWriter(
            configuration: writerConfiguration(rotationBytes: 400, clock: clock), fileSystem: fileSystem, startIfEmpty: .newRepository)
        _ = try writer.appendAndWait(.commit([.put(key: Array("user/42".utf8), value: Array("hello".utf8)), .delete(key: Array("user/7".utf8))]))
        _ = try writer.appendAndWait(.backupStart(label: "nightly"))
        _ = try writer.appendAndWait(.checkpoint(CheckpointInfo(extentGeneration: 3, oldestFileIDNeeded: FileID(1))))
        let restorePoint = try writer.appendAndWait(.backupEnd(label: "nightly"))
        try writer.close()
        let (epochWriter, _) = try TranlogWriter.beginningEpoch(
            ChainStart(fileID: FileID(4), epoch: Epoch(2), previousLastSeqno: restorePoint.seqno, previousLastRecordCRC: restorePoint.crc),
            parent: .first, configuration: writerConfiguration(rotationBytes: 400, clock: clock), fileSystem: fileSystem)
        _ = try epochWriter.appendAndWait(.commit([.put(key: [0x00, 0xFF], value: [])]))
        _ = try epochWriter.appendAndWait(.shutdown)
        try epochWriter.close()
        return fileSystem
    }

    @Test func writerOutputMatchesTheGoldenFiles() throws {
        let fileSystem = try Self.writeReferenceLog()
        for name in Self.goldenFiles {
            let produced = try #require(fileSystem.contents(of: logDirectory.appending(name)))
            let goldenURL = Self.goldenDirectory.appendingPathComponent(name)
            if ProcessInfo.processInfo.environment["UNDERSTUDY_UPDATE_GOLDEN"] == "1" {
                try Data(produced).write(to: goldenURL)
            }
            let golden = try [UInt8](Data(contentsOf: goldenURL))
            #expect(produced == golden, "\(name) differs from the frozen format version 1")
        }
    }

    @Test func stillReadsVersionOneFiles() throws {
        let fileSystem = emptyLogFileSystem()
        for name in Self.goldenFiles {
            let bytes = try [UInt8](Data(contentsOf: Self.goldenDirectory.appendingPathComponent(name)))
            fileSystem.overwrite(logDirectory.appending(name), with: bytes)
        }
        let result = try readLog(fileSystem)
        #expect(result.tornTail == nil)
        #expect(result.records.map(\.header.kind) == [.commit, .backupStart, .checkpoint, .fileEnd, .backupEnd, .epochBegin, .commit, .shutdown])
        #expect(result.records.map(\.seqno.rawValue) == Array(1...8))
        #expect(result.records[0].body == .commit([.put(key: Array("user/42".utf8), value: Array("hello".utf8)), .delete(key: Array("user/7".utf8))]))
        #expect(result.records[0].eventID.description == "tranlog1.dbf:128")
        #expect(result.records[0].header.time == Timestamp(iso8601: "2026-11-22T03:00:00.002Z"))
        #expect(result.records[2].body == .checkpoint(CheckpointInfo(extentGeneration: 3, oldestFileIDNeeded: FileID(1))))
        #expect(result.records[4].eventID.description == "tranlog2.dbf:128")
        #expect(result.records[5].body == .epochBegin(EpochBeginInfo(epoch: Epoch(2), parentEpoch: Epoch(1), forkSeqno: Seqno(5))))
        #expect(result.records[5].eventID.description == "tranlog4.dbf:128")
        #expect(result.records.map(\.header.epoch.rawValue) == [1, 1, 1, 1, 1, 2, 2, 2])
        #expect(result.records.allSatisfy { $0.header.sourceID == testSource })
    }

    /// The documented field offsets, checked on raw bytes rather than through the decoder.
    @Test func headerAndFrameLayoutMatchTheDocumentation() throws {
        let header = FileHeader(
            repositoryID: testRepository, fileID: FileID(12), epoch: Epoch(3), creationTime: Timestamp(rawValue: 1),
            previousLastSeqno: Seqno(7747), previousLastRecordCRC: 0xDEAD_BEEF
        ).encode()
        #expect(header.count == 128)
        #expect(Array(header[0..<8]) == Array("USTRNLOG".utf8))
        #expect(header[8] == 1 && header[9] == 0)
        #expect(Array(header[16..<32]) == testRepository.bytes)
        #expect(header[32] == 12)
        #expect(header[40] == 3)
        #expect(UInt64(header[56]) | UInt64(header[57]) << 8 == 7748)
        #expect(Array(header[72..<76]) == [0xEF, 0xBE, 0xAD, 0xDE])
        #expect(Checksum.crc32(Array(header[0..<124])) == UInt32(header[124]) | UInt32(header[125]) << 8 | UInt32(header[126]) << 16 | UInt32(header[127]) << 24)

        let recordHeader = RecordHeader(
            kind: .commit, seqno: Seqno(7748), epoch: Epoch(3), time: Timestamp(rawValue: 5), sourceID: SourceID("db1")!,
            previousCRC: 0xDEAD_BEEF)
        let (frame, crc) = RecordFrame.encode(recordHeader, .commit([.delete(key: [0x41])]))
        // 36 fixed + 3 source + (4 count + 1 tag + 2 key length + 1 key) + 4 crc
        #expect(frame.count == 51)
        #expect(Array(frame[0..<4]) == [51, 0, 0, 0])
        #expect(frame[4] == RecordKind.commit.rawValue)
        #expect(Array(frame[6..<8]) == [3, 0])
        #expect(UInt64(frame[8]) | UInt64(frame[9]) << 8 == 7748)
        #expect(frame[16] == 3)
        #expect(frame[24] == 5)
        #expect(Array(frame[32..<36]) == [0xEF, 0xBE, 0xAD, 0xDE])
        #expect(Array(frame[36..<39]) == Array("db1".utf8))
        #expect(Array(frame[39..<47]) == [1, 0, 0, 0, 2, 1, 0, 0x41])
        #expect(Checksum.crc32(Array(frame[0..<47])) == crc)
    }
}
