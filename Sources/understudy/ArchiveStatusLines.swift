import Foundation
import Node

/// `understudy status` lines for `archive` (a node with --archive-dir) and `warmStandby`.
enum ArchiveStatusLines {
    static func archive(_ archive: ArchiveStatus) -> String {
        "archive \(archive.directory): \(archive.state), last archived "
            + (archive.lastArchivedFileID.map { $0.fileName } ?? "none") + ", \(archive.backlogFiles) file(s) waiting"
            + (archive.lastError.map { "; FAILING: \($0)" } ?? "")
    }

    static func warmStandby(_ warm: WarmStandbyStatus) -> String {
        "warm standby of \(warm.archive): \(warm.state)" + (warm.waitingFor.map { " for \($0)" } ?? "")
            + ", applied seqno \(warm.appliedSeqno)" + (warm.lastAppliedFile.map { " from \($0)" } ?? "")
            + (warm.recordsPerSecond.map { String(format: ", %.0f records/s", $0) } ?? "")
    }
}
