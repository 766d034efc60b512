import Foundation
import SystemPackage
import Tranlog

/// One file a full backup may be written to.
public struct BackupTarget: Hashable, Sendable {
    public var path: FilePath
    /// The size (bytes on disk, so compressed bytes for a compressed backup) at which the backup moves
    /// on to the next target; nil for no limit. A threshold, not a ceiling: the file ends after the
    /// block that reaches it (see BackupWriter.swift). The last target is always unlimited, so a
    /// backup never fails for lack of targets.
    public var limitBytes: UInt64?

    public init(path: FilePath, limitBytes: UInt64? = nil) {
        self.path = path
        self.limitBytes = limitBytes
    }
}

/// What a full backup holds, stored in the header of each of its files.
public struct BackupDescription: Codable, Hashable, Sendable {
    public var formatVersion: Int
    /// Shared by the files of one backup, so a file of another backup is refused.
    public var backupID: UUID
    public var repositoryID: RepositoryID
    /// The last commit the backup contains: every object is as of this position.
    public var position: AppliedPosition
    /// In partial logging mode tranlogs cannot be replayed on top of the restored backup.
    public var loggingMode: LoggingMode
    /// The repository's history up to `position`, so a restore knows which tranlogs continue it.
    public var epochHistory: EpochHistory
    public var createdAt: Timestamp
    public var label: String?

    public init(
        backupID: UUID = UUID(), repositoryID: RepositoryID, position: AppliedPosition, loggingMode: LoggingMode,
        epochHistory: EpochHistory, createdAt: Timestamp, label: String?
    ) {
        self.formatVersion = BackupFormat.version
        self.backupID = backupID
        self.repositoryID = repositoryID
        self.position = position
        self.loggingMode = loggingMode
        self.epochHistory = epochHistory
        self.createdAt = createdAt
        self.label = label
    }
}

/// What writing or verifying a backup found.
public struct BackupSummary: Codable, Hashable, Sendable {
    /// The backup's files in part order (a backup may use fewer files than it was given targets).
    public var files: [String]
    public var objectCount: Int
    /// Bytes on disk, over all files.
    public var byteCount: UInt64
    /// Bytes of the backup's content before compression (equal to `byteCount` when uncompressed).
    public var uncompressedBytes: UInt64
    /// The backup's applied position (every object is as of it).
    public var position: AppliedPosition?

    public init(files: [String], objectCount: Int, byteCount: UInt64, uncompressedBytes: UInt64, position: AppliedPosition? = nil) {
        self.position = position
        self.files = files
        self.objectCount = objectCount
        self.byteCount = byteCount
        self.uncompressedBytes = uncompressedBytes
    }
}
