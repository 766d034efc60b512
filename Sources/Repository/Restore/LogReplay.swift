import Tranlog

/// Applies tranlog records, in order, on top of a position: crash recovery (the node's own logs after
/// its checkpoint) and `restore logs` (current or archived logs after a restored backup) alike.
///
/// Beyond the cursor's checks within the logs, it checks the join between the position and the logs:
/// the record at the position must be the very record the repository stands on (same CRC), the next
/// one must follow it (seqno + 1, naming that CRC), and an epoch may change only through an
/// epochBegin whose parent and fork seqno are the position. Anything else is another timeline or a
/// gap, and nothing of it is applied.
struct LogReplay {
    var table: ObjectTable
    var applied: AppliedPosition
    var history: EpochHistory
    /// Keys changed by the replay, with the seqno of each change (for the next checkpoint).
    var dirty = ChangedKeys()
    var bytes = 0
    var records = 0

    /// Applies `record` if it is the next one; returns false for records at or before the position.
    @discardableResult
    mutating func apply(_ record: TranlogRecord, from file: String) throws(RepositoryError) -> Bool {
        if record.seqno < applied.seqno {
            try checkOnHistory(record, from: file)
            return false
        }
        if record.seqno == applied.seqno {
            try checkSameRecord(record, from: file)
            return false
        }
        try checkContinues(record.record.frameHeader, at: record.eventID, from: file)
        if case .epochBegin(let info) = record.body { try enter(info, record: record) }
        if case .commit(let operations) = record.body {
            table.apply(operations, seqno: record.seqno)
            for operation in operations { dirty.record(operation, at: record.seqno) }
        }
        advance(to: AppliedPosition(record), frameLength: record.frameLength)
        return true
    }

    /// Applies the commit that must come next, its body decoded and its objects made beforehand
    /// (`PreparedFrames`): a standby's applier, where building a record per frame and copying its
    /// operations were a third of the time. The caller records the writes in `dirty`, a batch's at
    /// once (`PreparedFrames.changes`).
    mutating func applyCommit(
        _ header: FrameHeader, sourceID: SourceID, at eventID: EventID, taking range: Range<Int>, of writes: inout [PreparedWrite],
        from file: String
    ) throws(RepositoryError) {
        try checkContinues(header, at: eventID, from: file)
        table.apply(taking: range, of: &writes)
        advance(
            to: AppliedPosition(
                seqno: header.seqno, epoch: header.epoch, eventID: eventID, sourceID: sourceID, time: header.time, recordCRC: header.crc),
            frameLength: header.length)
    }

    private mutating func advance(to position: AppliedPosition, frameLength: Int) {
        applied = position
        bytes += frameLength
        records += 1
    }

    /// A record the repository has already passed is skipped, but only if it lies on the
    /// repository's history: of the epoch the history gives its seqno, and, for an epochBegin, the
    /// very epoch the history records there. Logs of another timeline are refused even where they
    /// overlap the position rather than run past it.
    private func checkOnHistory(_ record: TranlogRecord, from file: String) throws(RepositoryError) {
        guard let ours = history.entries.last(where: { $0.startSeqno <= record.seqno }) else { return }
        let here = "seqno \(record.seqno) at \(record.eventID) (\(file))"
        let oursText = "on this repository's history seqno \(record.seqno) is in epoch \(ours.epoch) (begun at seqno \(ours.startSeqno))"
        if case .epochBegin(let info) = record.body {
            guard info.epoch != ours.epoch || info.parentEpoch != ours.parentEpoch || record.seqno != ours.startSeqno else { return }
            throw .forkInTime(
                "\(here) begins epoch \(info.epoch) as a branch of epoch \(info.parentEpoch) after seqno \(info.forkSeqno), but "
                    + "\(oursText): these logs belong to another timeline, forked after seqno \(info.forkSeqno). Nothing of it is applied")
        }
        guard record.header.epoch != ours.epoch else { return }
        throw .forkInTime(
            "\(here) is of epoch \(record.header.epoch), but \(oursText): these logs belong to another timeline, forked at or "
                + "before seqno \(Seqno(record.seqno.rawValue - 1)). Nothing of it is applied")
    }

    private func checkSameRecord(_ record: TranlogRecord, from file: String) throws(RepositoryError) {
        guard let crc = applied.recordCRC, applied.seqno > .zero, record.crc != crc else { return }
        throw .logsDoNotContinue(
            "\(file) holds a different record at seqno \(record.seqno) (CRC \(hex(record.crc))) than the one the repository "
                + "stands on (CRC \(hex(crc)), \(applied)): these logs belong to another timeline")
    }

    /// The record must continue the position by the chain rule (`LogChain`): next seqno, the
    /// position's CRC, its epoch or an epochBegin branching from it.
    private func checkContinues(_ record: FrameHeader, at eventID: EventID, from file: String) throws(RepositoryError) {
        let chain = LogChain(after: applied.seqno, crc: applied.seqno > .zero ? applied.recordCRC : nil, epoch: applied.epoch)
        guard let chainBreak = chain.recordBreak(record) else { return }
        let here = "seqno \(record.seqno) at \(eventID) (\(file))"
        switch chainBreak {
        case .unexpectedSeqno(let expected):
            throw .logsDoNotContinue(
                "the first record after the repository's position (\(applied)) found in the logs is \(here), but seqno "
                    + "\(expected) is needed: the tranlogs holding seqno \(expected)…\(record.seqno.rawValue - 1) are missing")
        case .brokenCRC(let follows, let crc):
            throw .logsDoNotContinue(
                "\(here) follows a record with CRC \(hex(follows)), but the repository stands on one with CRC \(hex(crc)) "
                    + "(\(applied)): these logs belong to another timeline")
        case .epochChangeWithoutBegin:
            throw .forkInTime(
                "\(here) is of epoch \(record.epoch), but the repository is in epoch \(applied.epoch) at seqno "
                    + "\(applied.seqno), and no epochBegin joins them")
        case .epochBeginMismatch(let info), .wrongParent(let info, _):
            throw .forkInTime(
                "\(eventID) begins epoch \(info.epoch) as a branch of epoch \(info.parentEpoch) after seqno \(info.forkSeqno), "
                    + "but the repository is in epoch \(applied.epoch) at seqno \(applied.seqno). Nothing of epoch \(info.epoch) "
                    + "is replayed; replay only the logs of one timeline")
        case .followsFileEnd, .epochOutsideFile, .epochBeginNotFirst:
            preconditionFailure("a chain outside any file has no file rule to break: \(chainBreak)")
        }
    }

    /// An epochBegin the chain accepted: the new epoch enters the repository's history.
    private mutating func enter(_ info: EpochBeginInfo, record: TranlogRecord) throws(RepositoryError) {
        let entry = EpochEntry(epoch: info.epoch, startSeqno: record.seqno, parentEpoch: info.parentEpoch, time: record.header.time, sourceID: record.header.sourceID)
        if history.entries.contains(entry) { return }
        do { try history.append(entry) } catch {
            throw .forkInTime("\(record.eventID) begins epoch \(info.epoch), which the repository's epoch history contradicts: \(error)")
        }
    }
}
