import Tranlog

/// Why `position set` did not store a position. Refusals say which fact the position contradicts;
/// `--force` stores it anyway, except where the record's CRC is unknown (see `recordCRCUnknown`).
public enum PositionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A node holds the data directory: its position is in memory and would overwrite ours.
    case nodeRunning(path: String, holder: String)
    case invalid(String)
    case refused([PositionRefusal])
    /// The record is not in the local tranlogs and no `--record-crc` was given. Never forced: a
    /// position without its record's CRC cannot be checked by replay, and a standby would present
    /// CRC 0 to its primary, which refuses it as a divergent record.
    case recordCRCUnknown(seqno: Seqno, why: String)
    case repository(RepositoryError)

    public var description: String {
        switch self {
        case .nodeRunning(let path, let holder):
            return "data directory \(path) is in use by a running node (\(holder)): stop the node (or take the standby offline and "
                + "stop it) first; a running node keeps its position in memory and would overwrite the one set"
        case .invalid(let reason):
            return reason
        case .refused(let refusals):
            return "position refused: " + refusals.map(\.description).joined(separator: "; ")
                + ". Nothing was changed. If you are sure the data reflects exactly this position, run again with --force"
        case .recordCRCUnknown(let seqno, let why):
            return "\(why), so the CRC of the record of seqno \(seqno) is unknown. Get it from a node "
                + "that has the record: `understudy tranlog find --node PRIMARY_URL --seqno \(seqno)` prints it (CRC = 0x…), "
                + "then pass --record-crc with it. Nothing was changed"
        case .repository(let error):
            return error.description
        }
    }
}

/// One fact a position contradicts.
public enum PositionRefusal: Hashable, Sendable, CustomStringConvertible {
    case epochNotInHistory(epoch: Epoch, history: [Epoch])
    case epochStartsLater(epoch: Epoch, startSeqno: Seqno, seqno: Seqno)
    case laterEpochBegan(epoch: Epoch, later: EpochEntry, seqno: Seqno)
    /// The local tranlogs hold seqno N with another value of `field`.
    case localRecordDiffers(field: String, local: String, given: String, record: RecordHeaders)
    /// The event id given starts a record of another seqno.
    case eventIDPointsElsewhere(eventID: EventID, record: RecordHeaders, seqno: Seqno)
    /// The event id's file is local, but no record starts there.
    case noRecordAtEventID(RecordNotFound)
    /// The local tranlogs could not be read up to the position: it could not be checked against them.
    case localLogsUnreadable(String)

    public var description: String {
        switch self {
        case .epochNotInHistory(let epoch, let history):
            return "epoch \(epoch) is not in the epoch history (epochs \(history.map(\.description).joined(separator: ", ")))"
        case .epochStartsLater(let epoch, let startSeqno, let seqno):
            return "epoch \(epoch) begins at seqno \(startSeqno), after seqno \(seqno): seqno \(seqno) cannot be of epoch \(epoch)"
        case .laterEpochBegan(let epoch, let later, let seqno):
            return "epoch \(later.epoch) began at seqno \(later.startSeqno), at or before seqno \(seqno): seqno \(seqno) belongs to "
                + "epoch \(later.epoch) (or later), not \(epoch)"
        case .localRecordDiffers(let field, let local, let given, let record):
            return "the local tranlogs hold seqno \(record.seqno) at \(record.eventID) with \(field) \(local), not \(given): "
                + "the position names another record (another timeline, or a typo)"
        case .eventIDPointsElsewhere(let eventID, let record, let seqno):
            return "\(eventID) is the record of seqno \(record.seqno) (epoch \(record.epoch)) in the local tranlogs, not of seqno \(seqno)"
        case .noRecordAtEventID(let notFound):
            return notFound.description
        case .localLogsUnreadable(let problem):
            return "the local tranlogs cannot be read up to the position to check it: \(problem)"
        }
    }
}
