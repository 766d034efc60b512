import Foundation
import Testing
import Tranlog

/// End-to-end tests of `understudy tranlog …`: a real process on a log the generator wrote.
@Suite struct TranlogCommandTests {
    @Test func verifyAcceptsAGeneratedLog() throws {
        try withTemporaryDirectory { root in
            let log = try GeneratedLog(in: root)
            let result = try log.run("tranlog", "verify", log.directory.path)
            #expect(result.status == 0, "\(result.standardError)")
            #expect(field("records", in: result.standardOutput) == "\(log.records) (seqno 1 … \(log.records))")
            #expect(field("files", in: result.standardOutput) == "\(log.files.count) (tranlog1.dbf … \(log.files.last!))")
            #expect(field("epochs", in: result.standardOutput) == "1")
            #expect(result.standardError.isEmpty)
        }
    }

    @Test func inspectShowsTheFileIDAndSeqnoRangeOfEachFile() throws {
        try withTemporaryDirectory { root in
            let log = try GeneratedLog(in: root)
            var expectedFirstSeqno = 1
            var checkpoints = 0
            for (index, name) in log.files.enumerated() {
                let result = try log.run("tranlog", "inspect", log.path(name), "--checkpoints")
                try #require(result.status == 0, "\(result.standardError)")
                let output = result.standardOutput
                #expect(field("fileId", in: output) == "\(index + 1)")
                #expect(field("first seqno", in: output) == "\(expectedFirstSeqno)")
                #expect(field("previous file's last seqno", in: output) == "\(expectedFirstSeqno - 1)")
                let lastSeqno = try #require(Int(field("last seqno", in: output) ?? ""))
                #expect(field("records", in: output) == "\(lastSeqno - expectedFirstSeqno + 1)")
                let isNewest = index == log.files.count - 1
                #expect(field("ends with", in: output)?.hasPrefix(isNewest ? "shutdown" : "fileEnd") == true)
                checkpoints += output.split(separator: "\n").filter { $0.hasPrefix("  seqno ") }.count
                expectedFirstSeqno = lastSeqno + 1
            }
            #expect(expectedFirstSeqno - 1 == log.records)
            #expect(checkpoints == GeneratedLog.commits / GeneratedLog.checkpointEvery)
        }
    }

    @Test func listBySeqnoPrintsExactlyThatRecord() throws {
        try withTemporaryDirectory { root in
            let log = try GeneratedLog(in: root)
            let result = try log.run("tranlog", "list", log.directory.path, "--seqno", "150")
            #expect(result.status == 0, "\(result.standardError)")
            let entries = result.standardOutput.split(separator: "\n").filter { $0.hasPrefix("SEQ# = ") }
            #expect(entries == ["SEQ# = 150 / FRAG# = 0 (last frag)"])
        }
    }

    @Test func listByEventIDFindsTheRecordHeadersNamed() throws {
        try withTemporaryDirectory { root in
            let log = try GeneratedLog(in: root)
            let row = try log.headerRows()[log.records / 2]
            let (seqno, eventID) = (row[0], row[3])
            let result = try log.run("tranlog", "list", log.directory.path, "--event", eventID)
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput.hasPrefix("SEQ# = \(seqno) / FRAG# = 0 (last frag)\n"))
            #expect(result.standardOutput.contains("- EVENTID = \(eventID)\n"))
        }
    }

    /// `--headers` holds every field the block form shows (and the CRC), one line per record.
    @Test func headerLinesCarryFileCRCAndSize() throws {
        try withTemporaryDirectory { root in
            let log = try GeneratedLog(in: root)
            let rows = try log.headerRows()
            #expect(rows.count == log.records, "one line per record, no line of column names")
            let row = try #require(rows.first)
            #expect(row.count == 10, "\(row)")
            #expect(row[7] == EventID(row[3])?.fileID.fileName, "\(row)")
            #expect(row[8].hasPrefix("0x") && UInt32(row[8].dropFirst(2), radix: 16) != nil, "\(row)")
            #expect((Int(row[9]) ?? 0) > 0, "\(row)")
        }
    }

    @Test func listByEventIDRefusesAnOffsetInsideARecord() throws {
        try withTemporaryDirectory { root in
            let log = try GeneratedLog(in: root)
            let eventID = try #require(EventID(log.headerRows()[10][3]))
            let inside = EventID(fileID: eventID.fileID, offset: eventID.offset + 1)
            let result = try log.run("tranlog", "list", log.directory.path, "--event", inside.description)
            #expect(result.status == 1)
            #expect(result.standardError.contains("no record starts at \(inside) (the record before it starts at \(eventID))"))
        }
    }

    @Test func aFlippedByteInAMiddleFileFailsVerifyNamingFileAndOffset() throws {
        try withTemporaryDirectory { root in
            let log = try GeneratedLog(in: root)
            let fileID = log.middleFileID
            let path = log.path("tranlog\(fileID).dbf")
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            let flipped = bytes.count / 2
            bytes[flipped] ^= 0xFF
            // The damaged record is the last one starting at or before the flipped byte.
            let damagedOffset = try log.headerRows()
                .compactMap { EventID($0[3]) }
                .filter { $0.fileID == FileID(UInt64(fileID)) && $0.offset <= flipped }
                .map(\.offset).max()
            try Data(bytes).write(to: URL(fileURLWithPath: path))

            let result = try log.run("tranlog", "verify", log.directory.path)
            #expect(result.status == 1)
            #expect(result.standardError.contains("fileId \(fileID)"))
            #expect(result.standardError.contains("offset \(try #require(damagedOffset))"))
            #expect(!result.standardError.contains("Fatal error"))
        }
    }

    @Test func aDeletedMiddleFileIsAMissingLog() throws {
        try withTemporaryDirectory { root in
            let log = try GeneratedLog(in: root)
            let fileID = log.middleFileID
            try FileManager.default.removeItem(atPath: log.path("tranlog\(fileID).dbf"))
            let result = try log.run("tranlog", "verify", log.directory.path)
            #expect(result.status == 1)
            #expect(
                result.standardError.contains(
                    "end of all logs reached after fileId \(fileID - 1) before last log for recovery \(log.files.count) found"))
        }
    }

    @Test func aGzippedFileReadsTheSame() throws {
        try withTemporaryDirectory { root in
            let log = try GeneratedLog(in: root)
            let plainVerify = try log.run("tranlog", "verify", log.directory.path)
            let plainRows = try log.headerRows()
            let name = "tranlog\(log.middleFileID).dbf"
            let plain = try [UInt8](Data(contentsOf: URL(fileURLWithPath: log.path(name))))
            try Data(Gzip.compress(plain)).write(to: URL(fileURLWithPath: log.path(name + ".gz")))
            try FileManager.default.removeItem(atPath: log.path(name))

            let verify = try log.run("tranlog", "verify", log.directory.path)
            #expect(verify.status == 0, "\(verify.standardError)")
            #expect(field("records", in: verify.standardOutput) == field("records", in: plainVerify.standardOutput))
            #expect(field("files", in: verify.standardOutput)?.hasSuffix(", 1 compressed)") == true)
            #expect(try log.headerRows() == plainRows)
            let inspect = try log.run("tranlog", "inspect", log.path(name + ".gz"))
            #expect(inspect.status == 0, "\(inspect.standardError)")
            #expect(field("compressed", in: inspect.standardOutput) == "yes (\(plain.count) bytes uncompressed)")
        }
    }

    @Test func aMissingFileIsAClearErrorWithoutAStackTrace() throws {
        try withTemporaryDirectory { root in
            let result = try CLIProcess.run(["tranlog", "inspect", "absent/tranlog3.dbf"], in: root)
            #expect(result.status == 1)
            #expect(result.standardError == "Error: opening absent/tranlog3.dbf failed: No such file or directory\n")
        }
    }
}
