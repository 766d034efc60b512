import SystemPackage

/// Every way reading or writing tranlogs can fail. Each message names the file, fileId, offset and
/// seqno involved, and where there is one, what the operator should do next.
public enum TranlogError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A file in the sequence is absent: the manual's "EndOfAllLogs reached after fileid 3 before
    /// last log for recovery 10 found".
    case missingLog(after: FileID, lastFound: FileID, directory: String)
    /// A file ends early (no clean fileEnd, or it stops mid-record) while a later file exists, or
    /// the later file's chain does not meet it.
    case truncatedLog(fileID: FileID, next: FileID, detail: String)
    case corruptRecord(file: String, fileID: FileID, offset: UInt64, expectedSeqno: Seqno, defect: FrameDefect)
    case corruptHeader(file: String, defect: FileHeaderDefect)
    case otherRepository(file: String, found: RepositoryID, expected: RepositoryID)
    /// A file whose name and header disagree on its fileId (a renamed or misplaced file).
    case misnamedFile(file: String, headerFileID: FileID)
    /// A well-formed record that breaks the sequence: wrong seqno, broken CRC chain, wrong epoch,
    /// or a record after the file's fileEnd.
    case sequenceBreak(file: String, fileID: FileID, offset: UInt64, seqno: Seqno, detail: String)
    /// Damage in the newest file that is not a torn tail: valid records follow the damaged one.
    case damagedBeforeValidRecords(file: String, fileID: FileID, damageOffset: UInt64, defect: String, validOffset: UInt64, validSeqno: Seqno)
    /// The next file opens an epoch that branched off before the records already read: replaying it
    /// would mix two timelines (the manual's fork in time).
    case forkInTime(file: String, fileID: FileID, epoch: Epoch, branchedAfter: Seqno, replayedEpoch: Epoch, replayedThrough: Seqno)
    /// A file of an older epoch follows records of a newer one.
    case epochGoesBack(file: String, fileID: FileID, epoch: Epoch, replayedEpoch: Epoch, replayedThrough: Seqno)
    case unreadableArchive(file: String, reason: String)
    case io(operation: String, path: String, errno: Int32)
    /// The writer failed earlier (a failed write or sync) and accepts nothing more.
    case writerFailed(String)
    case writerClosed
    case recordOverLimits(String)
    /// A writer asked for something its settings or directory cannot give (a bad configuration, an
    /// epoch that does not follow its parent, a first fileId not above the directory's newest).
    case invalidConfiguration(String)
    case noLogs(directory: String)
    /// An `--archive-command` did not exit 0 (or could not be started) for this file.
    case archiveCommandFailed(file: String, command: String, outcome: String)

    public var description: String {
        switch self {
        case .missingLog(let after, let lastFound, let directory):
            return "end of all logs reached after fileId \(after) before last log for recovery \(lastFound) found: "
                + "\(after.next.fileName) is missing from \(directory). Copy it back (from the archive or a "
                + "standby) and run the restore again; it resumes where it stopped."
        case .truncatedLog(let fileID, let next, let detail):
            return "log with fileId \(fileID) is truncated or corrupt, or log \(next) is corrupt (\(detail)). "
                + "Supply a complete copy of \(fileID.fileName) and run the restore again."
        case .corruptRecord(let file, let fileID, let offset, let expectedSeqno, let defect):
            return "corrupt record at offset \(offset) of fileId \(fileID) (\(file)), seqno expected \(expectedSeqno): "
                + "\(defect). The record is not replayed; restore this file from a good copy."
        case .corruptHeader(let file, let defect):
            return "\(file): corrupt tranlog header: \(defect)"
        case .otherRepository(let file, let found, let expected):
            return "\(file) belongs to repository \(found), not \(expected): it is refused. "
                + "Check that the log directory or archive is the right repository's."
        case .misnamedFile(let file, let headerFileID):
            return "\(file): its header says fileId \(headerFileID), which does not match its name; "
                + "rename it to \(headerFileID.fileName) or remove it"
        case .sequenceBreak(let file, let fileID, let offset, let seqno, let detail):
            return "record at offset \(offset) of fileId \(fileID) (\(file)), seqno \(seqno): \(detail)"
        case .damagedBeforeValidRecords(let file, let fileID, let damageOffset, let defect, let validOffset, let validSeqno):
            return "\(file) (fileId \(fileID)) is damaged at offset \(damageOffset) (\(defect)), but a valid record "
                + "(seqno \(validSeqno)) follows at offset \(validOffset): this is not a torn tail and nothing was "
                + "truncated. Restore from a backup and replay logs, or rebuild this node from its standby."
        case .forkInTime(let file, let fileID, let epoch, let branchedAfter, let replayedEpoch, let replayedThrough):
            return "fork in time: \(file) (fileId \(fileID)) begins epoch \(epoch), which branched from the history after "
                + "seqno \(branchedAfter), but the logs replayed so far continue epoch \(replayedEpoch) through seqno "
                + "\(replayedThrough). Nothing of epoch \(epoch) is replayed. Replay only the logs of one timeline: "
                + "stop after fileId \(fileID.rawValue - 1), or restore the backup taken on the other branch."
        case .epochGoesBack(let file, let fileID, let epoch, let replayedEpoch, let replayedThrough):
            return "fork in time: \(file) (fileId \(fileID)) belongs to epoch \(epoch), but the logs replayed so far "
                + "reached epoch \(replayedEpoch) (through seqno \(replayedThrough)). It is a file of another timeline: "
                + "remove it from the logs being replayed."
        case .unreadableArchive(let file, let reason):
            return "\(file) cannot be decompressed: \(reason). Supply an intact copy of this log."
        case .io(let operation, let path, let errno):
            return "\(operation) \(path) failed: \(Errno(rawValue: errno))"
        case .writerFailed(let reason):
            return "the tranlog writer stopped after a failure and accepts no more records: \(reason). "
                + "Nothing after the last acknowledged commit was acknowledged; restart the node to recover."
        case .writerClosed:
            return "the tranlog writer is closed"
        case .recordOverLimits(let reason):
            return "record refused: \(reason)"
        case .invalidConfiguration(let reason):
            return "tranlog writer: \(reason)"
        case .noLogs(let directory):
            return "no tranlog files (tranlogN.dbf or tranlogN.dbf.gz) in \(directory)"
        case .archiveCommandFailed(let file, let command, let outcome):
            return "the archive command for \(file) failed: \(outcome) (command: \(command))"
        }
    }
}
