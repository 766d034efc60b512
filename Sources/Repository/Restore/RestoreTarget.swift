import Tranlog

/// How far `restore logs` goes (the manual's restoreFromArchiveLogs / restoreToEndOfLog: /
/// restoreToPointInTime:, plus Tungsten-style seqnos).
public enum RestoreTarget: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Every record the logs hold.
    case endOfLogs
    /// Up to and including the last record of this file.
    case endOfFile(FileID)
    /// Up to and including the last record whose commit time is at or before this instant. (GemStone
    /// stops at the first checkpoint after the time; we stop exactly at it.)
    case time(Timestamp)
    /// Up to and including this seqno.
    case seqno(Seqno)

    /// Whether `record` lies beyond the target (and the restore stops before it).
    func isBeyond(_ record: TranlogRecord) -> Bool {
        switch self {
        case .endOfLogs: false
        case .endOfFile(let fileID): record.eventID.fileID > fileID
        case .time(let time): record.header.time > time
        case .seqno(let seqno): record.seqno > seqno
        }
    }

    public var description: String {
        switch self {
        case .endOfLogs: "the end of the logs"
        case .endOfFile(let fileID): "the end of \(fileID.fileName)"
        case .time(let time): "the last record at or before \(time.iso8601)"
        case .seqno(let seqno): "seqno \(seqno)"
        }
    }
}

/// What a `restore logs` did (or, with `dryRun`, would do).
public struct LogRestoreReport: Codable, Hashable, Sendable {
    public var dryRun: Bool
    public var recordsApplied: Int
    public var commitsApplied: Int
    public var firstSeqno: Seqno?
    public var lastSeqno: Seqno?
    /// The files that held applied records, in order.
    public var files: [String]
    public var restoredTo: AppliedPosition
    /// True when no target stopped the restore: every available record was applied.
    public var reachedEndOfLogs: Bool
    public var target: String
    public var message: String
}

/// What a commitRestore did.
public struct CommitRestoreReport: Codable, Hashable, Sendable {
    public var epoch: Epoch
    public var parentEpoch: Epoch
    public var epochBegin: AppliedPosition
    public var objectCount: Int
    /// Tranlogs of the abandoned timeline, moved into a subdirectory (never deleted).
    public var setAside: [String]
    public var warning: String?
    /// This call completed a commit that an error had interrupted after its commit point.
    public var completedInterrupted: Bool
    public var message: String
}
