import Tranlog

/// Which records `list` prints. The log is read from its first record in every case, so the chain
/// is checked up to the records shown; reading stops as soon as nothing further can match.
enum RecordSelection {
    case range(from: Seqno?, to: Seqno?)
    case seqno(Seqno)
    case event(EventID)
    /// The first record written at or after this time.
    case time(Timestamp)

    enum Decision {
        case skip
        case show
        /// Show this record; nothing after it can match.
        case showAndStop
        /// Past everything that could match.
        case stop
    }

    func decide(_ record: TranlogRecord) -> Decision {
        switch self {
        case .range(let from, let to):
            if let to, record.seqno > to { return .stop }
            if let from, record.seqno < from { return .skip }
            return .show
        case .seqno(let seqno):
            if record.seqno == seqno { return .showAndStop }
            return record.seqno < seqno ? .skip : .stop
        case .event(let eventID):
            if record.eventID == eventID { return .showAndStop }
            return isBefore(record.eventID, eventID) ? .skip : .stop
        case .time(let time):
            return record.header.time >= time ? .showAndStop : .skip
        }
    }

    /// Why nothing was shown for a selection that names exactly one record; nil for a range, where
    /// an empty result is an answer.
    func nothingFound(tally: ChainTally, previousEventID: EventID?, directory: String) -> CommandError? {
        switch self {
        case .range:
            return nil
        case .seqno(let seqno):
            if let first = tally.firstSeqno, seqno < first {
                return CommandError("seqno \(seqno) is not in \(directory): its first record is seqno \(first)")
            }
            return CommandError("seqno \(seqno) is not in \(directory): its last record is seqno \(tally.lastSeqno ?? .zero)")
        case .event(let eventID):
            let before = previousEventID.map { " (the record before it starts at \($0))" } ?? ""
            return CommandError(
                "no record starts at \(eventID)\(before); run `understudy tranlog list --headers` to see the event ids")
        case .time(let time):
            let last = tally.lastTime.map { ", the last record (seqno \(tally.lastSeqno!)) was written at \($0.iso8601)" } ?? ""
            return CommandError("no record in \(directory) was written at or after \(time.iso8601)\(last)")
        }
    }

    private func isBefore(_ position: EventID, _ target: EventID) -> Bool {
        position.fileID < target.fileID || (position.fileID == target.fileID && position.offset < target.offset)
    }
}
