import SystemPackage
import Tranlog

/// One tranlog file as retention sees it.
public struct RetainedFile: Codable, Hashable, Sendable {
    public var fileID: FileID
    public var path: String
    public var bytes: UInt64

    public init(fileID: FileID, path: String, bytes: UInt64) {
        self.fileID = fileID
        self.path = path
        self.bytes = bytes
    }
}

/// Why a tranlog file must stay. Every reason protects a file and every later one, so what may go
/// is always a run of the oldest files.
public enum RetentionReason: Hashable, Sendable, CustomStringConvertible {
    /// Crash recovery replays from the file of the last checkpoint's position.
    case recovery(FileID)
    /// A known standby has not acknowledged everything from this file on.
    case standby(nodeID: String, needs: FileID)
    /// An unfinished restore applies the logs after its applied position, which is in this file.
    case restore(FileID)
    /// The archiver (`--archive-dir`) has not copied this file yet.
    case archive(FileID)

    /// The first file this reason protects.
    public var firstFileID: FileID {
        switch self {
        case .recovery(let fileID), .restore(let fileID), .archive(let fileID), .standby(_, let fileID): fileID
        }
    }

    /// Whether `--force` may override it: never for recovery, whose files are the repository itself.
    public var overridable: Bool {
        if case .recovery = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case .recovery(let fileID):
            "crash recovery needs \(fileID.fileName) and later (the last checkpoint's position; --force cannot override this)"
        case .standby(let nodeID, let fileID):
            "standby \(nodeID) needs \(fileID.fileName) and later (`understudy standbys forget \(nodeID)` if it is decommissioned)"
        case .restore(let fileID):
            "the unfinished restore needs \(fileID.fileName) and later (the file of its applied position)"
        case .archive(let fileID):
            "the archiver has not copied \(fileID.fileName) and later to --archive-dir yet (see `archive` in status)"
        }
    }
}

/// What decides which tranlogs may be removed: the files on disk and everyone who still needs some.
/// Pure: gathered by `Repository.retention()` or `StoppedRepositoryLogs`, unit-testable alone.
public struct TranlogRetention: Sendable {
    /// Every tranlog file in the data directory, in fileId order.
    public var files: [RetainedFile]
    /// Nil in restore mode: a restoring repository does not replay its tranlogs when it opens (the
    /// restore reason keeps what it applies next), so a standby's logs can be purged for a new copy.
    public var recoveryNeeds: FileID?
    public var standbys: [KnownStandby]
    /// Set in restore mode.
    public var restoreNeeds: FileID?
    /// Set with an archive: the first file not archived yet.
    public var archiveNeeds: FileID?

    public init(files: [RetainedFile], recoveryNeeds: FileID?, standbys: [KnownStandby], restoreNeeds: FileID?, archiveNeeds: FileID? = nil) {
        self.archiveNeeds = archiveNeeds
        self.files = files.sorted { $0.fileID < $1.fileID }
        self.recoveryNeeds = recoveryNeeds
        self.standbys = standbys
        self.restoreNeeds = restoreNeeds
    }

    /// Every reason to keep files, oldest first protected first.
    public var reasons: [RetentionReason] {
        var reasons = recoveryNeeds.map { [RetentionReason.recovery($0)] } ?? []
        reasons += standbys.map { .standby(nodeID: $0.nodeID, needs: $0.neededFileID) }
        if let restoreNeeds { reasons.append(.restore(restoreNeeds)) }
        if let archiveNeeds { reasons.append(.archive(archiveNeeds)) }
        return reasons.sorted { $0.firstFileID < $1.firstFileID }
    }

    /// The reasons that keep `fileID`.
    public func reasons(keeping fileID: FileID) -> [RetentionReason] {
        reasons.filter { $0.firstFileID <= fileID }
    }

    /// Bytes of the files from `fileID` to the end: what the primary holds for a standby needing it.
    public func bytes(from fileID: FileID) -> UInt64 {
        files.filter { $0.fileID >= fileID }.reduce(0) { $0 + $1.bytes }
    }

    /// Bytes held for standbys: from the oldest file any known standby needs to the end; 0 without standbys.
    public var bytesHeldForStandbys: UInt64 {
        guard let oldest = standbys.map(\.neededFileID).min() else { return 0 }
        return bytes(from: oldest)
    }

    /// What is left under `--max-retained-mbytes` before a standby loses its logs.
    public func runwayBytes(maxRetainedBytes: UInt64) -> UInt64 {
        maxRetainedBytes > bytesHeldForStandbys ? maxRetainedBytes - bytesHeldForStandbys : 0
    }

    /// Whether a standby's logs are already gone: the file it needs is no longer on disk.
    public func hasLost(_ standby: KnownStandby) -> Bool {
        guard let oldest = files.first?.fileID else { return true }
        return standby.neededFileID < oldest
    }
}
