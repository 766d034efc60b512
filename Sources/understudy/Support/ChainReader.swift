import SystemPackage
import Tranlog

/// Reads a tranlog directory record by record through `TranlogCursor`, so every check of the chain
/// applies, and keeps the tallies that `verify` and `list` report.
struct ChainReader {
    let directory: TranlogDirectory
    private var cursor: TranlogCursor
    private(set) var tally = ChainTally()

    init(path: String) throws(TranlogError) {
        directory = try TranlogDirectory.scan(FilePath(path))
        // An empty directory is almost always a wrong path: say so instead of "0 records".
        guard !directory.files.isEmpty else { throw .noLogs(directory: path) }
        cursor = TranlogCursor(directory: directory)
    }

    mutating func next() throws(TranlogError) -> TranlogRecord? {
        guard let record = try cursor.next() else { return nil }
        tally.count(record)
        return record
    }

    /// Set once the reader has reached a torn tail at the end of the newest file.
    var tornTail: TornTail? { cursor.tornTail }
}

/// What a reader has seen so far.
struct ChainTally {
    private(set) var records = 0
    private(set) var firstSeqno: Seqno?
    private(set) var lastSeqno: Seqno?
    private(set) var lastEventID: EventID?
    /// In the order they appear; epochs only grow along one chain.
    private(set) var epochs: [Epoch] = []

    mutating func count(_ record: TranlogRecord) {
        records += 1
        if firstSeqno == nil { firstSeqno = record.seqno }
        lastSeqno = record.seqno
        lastEventID = record.eventID
        if epochs.last != record.header.epoch { epochs.append(record.header.epoch) }
    }

    /// `1 … 404`, or "none" before the first record.
    var seqnoRange: String {
        guard let firstSeqno, let lastSeqno else { return "none" }
        return "\(firstSeqno) … \(lastSeqno)"
    }
}

/// A torn tail is the expected trace of a crash mid-write, not damage: it is reported on stderr and
/// the command still succeeds. `label` is "note" or "warning", as fits the command.
func reportTornTail(_ torn: TornTail?, as label: String) {
    guard let torn else { return }
    printToStandardError("\(label): \(torn); it will be truncated when the writer next opens")
}
