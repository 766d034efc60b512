import ArgumentParser
import Tranlog

/// `understudy tranlog verify DIR`: reads the whole chain and says whether it can be trusted.
struct TranlogVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every record of a tranlog directory, across all its files.",
        discussion: """
            Reads every file in fileId order and checks each record's CRC, the CRC chain, seqno continuity, \
            epochs, and that no file is missing, truncated or from another repository.

            Exit status 0: the chain is intact; prints the files, records, seqno range and epochs. A torn \
            tail at the end of the newest file (a crash mid-write) is not damage: it is printed as a warning \
            and will be truncated when the writer next opens the directory.
            Exit status 1: prints the first problem (file, fileId, offset, seqno) and what to do about it.
            """)

    @Argument(help: "The directory holding tranlogN.dbf (and tranlogN.dbf.gz) files.")
    var directory: String

    @Flag(help: "Print the result as one JSON object on stdout (also on failure, with an \"error\" field).")
    var json = false

    func run() throws {
        var reader = try ChainReader(path: directory)
        do {
            while try reader.next() != nil {}
        } catch {
            try reportFailure(error, reader: reader)
            throw error
        }
        let report = VerifyReport(reader: reader, error: nil)
        if json {
            print(try jsonDocument(report))
        } else {
            printSuccess(report)
        }
        reportTornTail(reader.tornTail, as: "warning")
    }

    /// Says how far the chain was good before the problem, so an operator knows what is still usable.
    private func reportFailure(_ error: TranlogError, reader: ChainReader) throws {
        if json { print(try jsonDocument(VerifyReport(reader: reader, error: error))) }
        let tally = reader.tally
        let lastGood = tally.lastEventID.map { ", the last at event id \($0)" } ?? ""
        printToStandardError("verify: \(counted(tally.records, "record")) intact (seqno \(tally.seqnoRange)\(lastGood)) before:")
    }

    private func printSuccess(_ report: VerifyReport) {
        print("tranlog chain in \(directory) is intact")
        let compressed = report.compressedFiles > 0 ? ", \(report.compressedFiles) compressed" : ""
        let seqnos = report.firstSeqno.map { "seqno \($0) … \(report.lastSeqno!)" } ?? "no records"
        printFields([
            "files": "\(report.files.count) (\(fileRange(report.files))\(compressed))",
            "records": "\(report.records) (\(seqnos))",
            "epochs": report.epochs.map(String.init).joined(separator: ", "),
            "last event id": report.lastEventID ?? "none",
            "torn tail": report.tornTail.map { "\($0.byteCount) bytes at offset \($0.offset) of fileId \($0.fileID)" } ?? "none",
        ])
    }
}

/// The result of a verify, in the shape `--json` prints.
private struct VerifyReport: Encodable {
    struct Torn: Encodable {
        var fileID: UInt64
        var offset: UInt64
        var byteCount: UInt64
        var reason: String
    }

    var ok: Bool
    var error: String?
    var files: [String]
    var compressedFiles: Int
    var records: Int
    var firstSeqno: UInt64?
    var lastSeqno: UInt64?
    var lastEventID: String?
    var epochs: [UInt64]
    var tornTail: Torn?

    init(reader: ChainReader, error: TranlogError?) {
        let tally = reader.tally
        ok = error == nil
        self.error = error?.description
        files = reader.directory.files.map { $0.path.lastComponent?.string ?? $0.fileID.fileName }
        compressedFiles = reader.directory.files.filter(\.isCompressed).count
        records = tally.records
        firstSeqno = tally.firstSeqno?.rawValue
        lastSeqno = tally.lastSeqno?.rawValue
        lastEventID = tally.lastEventID?.description
        epochs = tally.epochs.map(\.rawValue)
        tornTail = reader.tornTail.map {
            Torn(fileID: $0.fileID.rawValue, offset: $0.offset, byteCount: $0.byteCount, reason: $0.reason)
        }
    }
}
