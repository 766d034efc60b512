import Foundation
import Node

/// `understudy status` lines for `archive` (a node with --archive-dir or --archive-command) and `warmStandby`.
enum ArchiveStatusLines {
    static func archive(_ archive: ArchiveStatus) -> String {
        "archive to \(destination(archive)): \(archive.state), last archived "
            + (archive.lastArchivedFileID.map { $0.fileName } ?? "none") + ", \(archive.backlogFiles) file(s) waiting"
            + (archive.lastError.map { "; FAILING: \($0)" } ?? "")
    }

    /// The directory (`--archive-dir`) or the command (`--archive-command`) archiving goes to.
    private static func destination(_ archive: ArchiveStatus) -> String {
        if let directory = archive.directory { return directory }
        if let command = archive.command { return "command `\(command)`" }
        return "an unnamed destination"
    }

    static func warmStandby(_ warm: WarmStandbyStatus) -> String {
        "warm standby of \(warm.archive): \(warm.state)" + (warm.waitingFor.map { " for \($0)" } ?? "")
            + ", applied seqno \(warm.appliedSeqno)" + (warm.lastAppliedFile.map { " from \($0)" } ?? "")
            + (warm.recordsPerSecond.map { String(format: ", %.0f records/s", $0) } ?? "")
    }
}
