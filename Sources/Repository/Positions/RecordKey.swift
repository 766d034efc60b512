import Tranlog

/// Which single record `tranlog find` (and `tranlog list --seqno/--event/--time`) asks for, like
/// Tungsten's `thl list -seqno`, `-event` and `-time`.
public enum RecordKey: Hashable, Sendable, CustomStringConvertible {
    case seqno(Seqno)
    /// The record starting exactly at this file and offset.
    case event(EventID)
    /// The first record written at or after this time.
    case time(Timestamp)

    /// Where a record read in log order stands relative to the one wanted.
    public enum Match: Sendable {
        /// Not yet: the wanted record, if any, comes later.
        case before
        case found
        /// Past it: no later record can match.
        case past
    }

    public func match(_ record: TranlogRecord) -> Match {
        switch self {
        case .seqno(let seqno):
            return record.seqno == seqno ? .found : record.seqno < seqno ? .before : .past
        case .event(let eventID):
            if record.eventID == eventID { return .found }
            let here = record.eventID
            return here.fileID < eventID.fileID || (here.fileID == eventID.fileID && here.offset < eventID.offset) ? .before : .past
        case .time(let time):
            return record.header.time >= time ? .found : .before
        }
    }

    public var description: String {
        switch self {
        case .seqno(let seqno): "seqno \(seqno)"
        case .event(let eventID): "event id \(eventID)"
        case .time(let time): "time \(time.iso8601)"
        }
    }
}

extension RecordKey {
    /// What is wrong with the key before any log is read: seqno 0 names no record.
    public var problem: String? {
        if case .seqno(let seqno) = self, seqno == .zero { return "seqno 0 names no record: the first record of a repository is seqno 1" }
        return nil
    }

    /// The key as a `GET /tranlog/find` query parameter: its name and its text.
    public var queryParameter: (name: String, value: String) {
        switch self {
        case .seqno(let seqno): ("seqno", "\(seqno)")
        case .event(let eventID): ("event", "\(eventID)")
        case .time(let time): ("time", time.iso8601)
        }
    }
}
