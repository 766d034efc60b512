import ArgumentParser
import Foundation
import Node
import Repository
import SystemPackage
import Tranlog

/// `understudy tranlog find`: one record's headers, from a directory or a running node — Tungsten's
/// `thl list -event … -headers`, used to turn an event id or a time into the seqno (and CRC) that
/// `position set` takes.
struct TranlogFind: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find",
        abstract: "Print the headers of one record (like Tungsten's `thl list -event … -headers`).",
        discussion: """
            Give one key: --seqno N, --event tranlogN.dbf:OFFSET (the record starting there) or --time ISO8601 \
            (the first record written at or after it); and one place: --data DIR (a data directory, or a \
            directory of tranlog files, read directly) or --node URL (a running node, GET /tranlog/find).

            Prints SEQ#, FILE, TIME, EPOCH#, EVENTID, SOURCEID, KIND and CRC (the record's CRC, which \
            `position set --record-crc` takes). A record that is not there exits with status 1 and says \
            what the logs hold; damage or a missing file on the way is reported as such.
            """)

    @Option(help: "The record with this seqno.")
    var seqno: UInt64?

    @Option(help: ArgumentHelp("The record starting at this event id.", valueName: "tranlogN.dbf:OFFSET"), transform: ArgumentParsing.eventID)
    var event: EventID?

    @Option(help: ArgumentHelp("The first record written at or after this time.", valueName: "ISO8601"), transform: ArgumentParsing.timestamp)
    var time: Timestamp?

    @Option(help: ArgumentHelp("A data directory (its tranlogs/ are read), or a directory of tranlog files.", valueName: "DIR"))
    var data: String?

    @Option(help: ArgumentHelp("A running node's HTTP API.", valueName: "URL"))
    var node: String?

    @OptionGroup(title: "TLS (https:// node URLs)") var tls: ClientTLSOptions

    @Flag(help: "Print the headers as one JSON object.")
    var json = false

    func validate() throws {
        let keys = [seqno != nil, event != nil, time != nil].filter { $0 }.count
        guard keys == 1 else { throw ValidationError("give exactly one of --seqno, --event or --time") }
        guard (data == nil) != (node == nil) else { throw ValidationError("give exactly one of --data DIR or --node URL") }
        if let problem = key.problem { throw ValidationError(problem) }
    }

    func run() throws {
        let headers = try find()
        if json { return print(try jsonLine(headers)) }
        print((RecordRendering.headerBlock(headers) + ["- CRC = \(CRCText.format(headers.recordCRC))"]).joined(separator: "\n"))
    }

    private var key: RecordKey {
        if let seqno { return .seqno(Seqno(seqno)) }
        if let event { return .event(event) }
        return .time(time!)
    }

    private func find() throws -> RecordHeaders {
        if let data { return RecordHeaders(try findRecord(key, inTranlogDirectory: tranlogDirectory(data))) }
        let client = try NodeClient(url: node!, tls: tls.configuration)
        defer { client.close() }
        return try client.findRecord(key)
    }

    /// A data directory's `tranlogs/`, or the directory itself when it has none (an archive of logs).
    private func tranlogDirectory(_ path: String) -> String {
        let tranlogs = DataDirectory(FilePath(path)).tranlogs.string
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: tranlogs, isDirectory: &isDirectory) && isDirectory.boolValue ? tranlogs : path
    }
}
