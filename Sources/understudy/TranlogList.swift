import ArgumentParser
import Repository
import Tranlog

/// `understudy tranlog list DIR`: prints records, Tungsten `thl list` style.
struct TranlogList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Print the records of a tranlog directory (like Tungsten's `thl list`).",
        discussion: """
            Without a selection every record is printed. Select with --from-seqno/--to-seqno (a range), or \
            exactly one of --seqno, --event or --time (a single record; exit status 1 if there is none).

            Output forms:
              (default)  one block per record: SEQ#, FILE, TIME, EPOCH#, EVENTID,
                         SOURCEID, KIND, then a PUT/DELETE line per operation
                         (keys as text when printable, else 0x + hex; values
                         shown by size)
              --headers  one tab-separated line per record (no line of column
                         names, so `wc -l` counts records): seqno, epoch, time,
                         event id, source id, kind, operation count, file,
                         CRC, frame bytes
              --json     JSON Lines: one JSON object per record, one per line,
                         no enclosing array (stream it into `jq -c`)

            The chain is checked while reading (CRCs, seqnos, files). Damage stops the listing with exit \
            status 1 and a message naming the file, fileId and offset. A torn tail at the end of the newest \
            file is reported as a note on stderr.
            """)

    @Argument(help: "The directory holding tranlogN.dbf (and tranlogN.dbf.gz) files.")
    var directory: String

    @Option(name: .customLong("from-seqno"), help: "Print records from this seqno on.")
    var fromSeqno: UInt64?

    @Option(name: .customLong("to-seqno"), help: "Print records up to and including this seqno.")
    var toSeqno: UInt64?

    @Option(help: "Print exactly the record with this seqno.")
    var seqno: UInt64?

    @Option(
        help: ArgumentHelp("Print the record at this event id.", valueName: "tranlogN.dbf:OFFSET"),
        transform: ArgumentParsing.eventID)
    var event: EventID?

    @Option(
        help: ArgumentHelp("Print the first record written at or after this time.", valueName: "ISO8601"),
        transform: ArgumentParsing.timestamp)
    var time: Timestamp?

    @Flag(help: "Print one tab-separated line per record instead of the full form.")
    var headers = false

    @Flag(help: "Print JSON Lines: one JSON object per record.")
    var json = false

    func validate() throws {
        let singles = [seqno != nil, event != nil, time != nil].filter { $0 }.count
        let ranged = fromSeqno != nil || toSeqno != nil
        guard singles + (ranged ? 1 : 0) <= 1 else {
            throw ValidationError("choose one selection: --from-seqno/--to-seqno, --seqno, --event or --time")
        }
        guard !(headers && json) else { throw ValidationError("--headers and --json are alternative output forms; choose one") }
    }

    func run() throws {
        switch selection {
        case .one(let key):
            try show(findRecord(key, inTranlogDirectory: directory))
        case .range(let from, let to):
            try showRange(from: from, to: to)
        }
    }

    private func showRange(from: Seqno?, to: Seqno?) throws {
        var reader = try ChainReader(path: directory)
        reading: while let record = try reader.next() {
            switch RecordSelection.decide(record, from: from, to: to) {
            case .skip: continue
            case .show: try show(record)
            case .stop: break reading
            }
        }
        reportTornTail(reader.tornTail, as: "note")
    }

    private var selection: RecordSelection {
        if let seqno { return .one(.seqno(Seqno(seqno))) }
        if let event { return .one(.event(event)) }
        if let time { return .one(.time(time)) }
        return .range(from: fromSeqno.map { Seqno($0) }, to: toSeqno.map { Seqno($0) })
    }

    private func show(_ record: TranlogRecord) throws {
        if json {
            print(try RecordRendering.json(record))
        } else if headers {
            print(RecordRendering.headerLine(record))
        } else {
            print(RecordRendering.tungsten(record))
        }
    }
}
