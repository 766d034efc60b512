import ArgumentParser
import Foundation
import SystemPackage
import Tranlog

/// `understudy tranlog inspect FILE`: the facts of one tranlog file (GemStone's `copydbf -i`).
struct TranlogInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe one tranlog file (like GemStone's `copydbf -i`).",
        discussion: """
            Prints the file's type, fileId, repository id, epoch, creation time, first and last seqno, the \
            previous file's last seqno (the chain it continues), record count, size, whether it is compressed, \
            and how it ends:
              fileEnd    closed cleanly at a rotation; the next file continues
              shutdown   the writer was closed cleanly after its last record
              open       the newest file of a running (or crashed) writer,
                         ending after a whole record
              torn tail  a crash interrupted a write; the partial record is
                         truncated when the writer next opens (if this is not
                         the newest file, run `verify` on the directory)
            Every record's CRC and the CRC chain inside the file are checked; damage exits with status 1.
            Archived files (tranlogN.dbf.gz) are read the same way.
            """)

    @Argument(help: "A tranlog file: tranlogN.dbf or tranlogN.dbf.gz.")
    var file: String

    @Flag(help: "Also list each checkpoint record: seqno, time, extent generation, oldest fileId needed.")
    var checkpoints = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        let report = try FileReport.read(try fileRef())
        if json {
            print(try jsonDocument(report.json(includingCheckpoints: checkpoints)))
        } else {
            printFields(report.fields)
            if checkpoints { printCheckpoints(report.checkpoints) }
        }
    }

    /// The file as the library names it: inspect trusts the name for the fileId and checks the header
    /// against it, so a misnamed copy is caught.
    private func fileRef() throws -> TranlogFileRef {
        let path = FilePath(file)
        guard let name = path.lastComponent?.string, let fileID = FileID(fileName: name) else {
            throw CommandError(
                "\(file) is not named like a tranlog (tranlogN.dbf or tranlogN.dbf.gz); rename the copy to its fileId")
        }
        return TranlogFileRef(fileID: fileID, path: path)
    }

    private func printCheckpoints(_ checkpoints: [FileReport.Checkpoint]) {
        print("checkpoints: \(checkpoints.count)")
        for checkpoint in checkpoints {
            print(
                "  seqno \(checkpoint.seqno)  time \(checkpoint.time)  extent generation \(checkpoint.extentGeneration)"
                    + "  oldest fileId needed \(checkpoint.oldestFileIDNeeded)")
        }
    }
}

/// What `inspect` learned about a file by reading it through a cursor limited to that one file.
private struct FileReport {
    struct Checkpoint: Encodable {
        var seqno: UInt64
        var time: String
        var extentGeneration: UInt64
        var oldestFileIDNeeded: UInt64
    }

    var ref: TranlogFileRef
    var header: FileHeader
    var records = 0
    var lastSeqno: Seqno?
    var lastKind: RecordKind?
    var checkpoints: [Checkpoint] = []
    var uncompressedBytes: UInt64 = 0
    var sizeBytes: UInt64 = 0
    var tornTail: TornTail?

    static func read(_ ref: TranlogFileRef) throws -> FileReport {
        var cursor = TranlogCursor(directory: try singleFileDirectory(ref))
        var records: [TranlogRecord] = []
        while let record = try cursor.next() { records.append(record) }
        guard let header = cursor.currentHeader else {
            throw CommandError(
                "\(ref.path) holds no valid \(FileHeader.size)-byte tranlog header: its creation was interrupted "
                    + "by a crash; the writer removes it when it next opens the directory")
        }
        var report = FileReport(ref: ref, header: header)
        records.forEach { report.count($0) }
        report.tornTail = cursor.tornTail
        report.uncompressedBytes = cursor.endOfLastRecord + (cursor.tornTail?.byteCount ?? 0)
        report.sizeBytes = try fileSizeBytes(ref.path)
        return report
    }

    /// A directory view holding only this file, so the cursor's checks apply to it alone (with the
    /// file treated as the newest: damage at its very end reads as a torn tail).
    private static func singleFileDirectory(_ ref: TranlogFileRef) throws -> TranlogDirectory {
        guard FileManager.default.fileExists(atPath: ref.path.string) else {
            throw TranlogError.io(operation: "opening", path: ref.path.string, errno: ENOENT)
        }
        return TranlogDirectory(description: ref.path.string, files: [ref])
    }

    private mutating func count(_ record: TranlogRecord) {
        records += 1
        lastSeqno = record.seqno
        lastKind = record.header.kind
        if case .checkpoint(let info) = record.body {
            checkpoints.append(
                Checkpoint(
                    seqno: record.seqno.rawValue, time: record.header.time.iso8601,
                    extentGeneration: info.extentGeneration, oldestFileIDNeeded: info.oldestFileIDNeeded.rawValue))
        }
    }

    /// How the file ends, as one word for JSON and as a sentence for people.
    var ending: (word: String, sentence: String) {
        if let tornTail {
            return ("tornTail", "torn tail: \(tornTail.byteCount) bytes at offset \(tornTail.offset) (\(tornTail.reason))")
        }
        switch lastKind {
        case .fileEnd: return ("fileEnd", "fileEnd (rotated cleanly; the next file continues the chain)")
        case .shutdown: return ("shutdown", "shutdown (the writer was closed cleanly)")
        default: return ("open", "open (the newest file of a running or stopped writer)")
        }
    }

    var fields: KeyValuePairs<String, String> {
        [
            "file": ref.path.string,
            "type": "tranlog (format version \(FileHeader.formatVersion))",
            "fileId": "\(header.fileID)",
            "repository": "\(header.repositoryID)",
            "epoch": "\(header.epoch)",
            "created": header.creationTime.iso8601,
            "first seqno": "\(header.firstSeqno)",
            "last seqno": lastSeqno.map(String.init) ?? "none (no records)",
            "previous file's last seqno": "\(header.previousLastSeqno)",
            "records": "\(records)",
            "size": "\(sizeBytes) bytes",
            "compressed": ref.isCompressed ? "yes (\(uncompressedBytes) bytes uncompressed)" : "no",
            "ends with": ending.sentence,
        ]
    }

    func json(includingCheckpoints: Bool) -> FileReportJSON {
        FileReportJSON(
            file: ref.path.string, type: "tranlog", formatVersion: FileHeader.formatVersion,
            fileID: header.fileID.rawValue, repositoryID: header.repositoryID.description,
            epoch: header.epoch.rawValue, created: header.creationTime.iso8601, firstSeqno: header.firstSeqno.rawValue,
            lastSeqno: lastSeqno?.rawValue, previousLastSeqno: header.previousLastSeqno.rawValue, records: records,
            sizeBytes: sizeBytes, uncompressedBytes: uncompressedBytes, compressed: ref.isCompressed, ending: ending.word,
            tornTail: tornTail?.description, checkpoints: includingCheckpoints ? checkpoints : nil)
    }
}

private struct FileReportJSON: Encodable {
    var file: String
    var type: String
    var formatVersion: UInt16
    var fileID: UInt64
    var repositoryID: String
    var epoch: UInt64
    var created: String
    var firstSeqno: UInt64
    var lastSeqno: UInt64?
    var previousLastSeqno: UInt64
    var records: Int
    var sizeBytes: UInt64
    var uncompressedBytes: UInt64
    var compressed: Bool
    var ending: String
    var tornTail: String?
    var checkpoints: [FileReport.Checkpoint]?
}
