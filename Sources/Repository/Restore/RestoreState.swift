import Foundation
import SystemPackage
import Tranlog

/// Restore mode belongs to the repository, not the process (the manual's restoreStatus "persists
/// across … stopping and restarting"): `DATA/restore.json`, replaced atomically, says whether the
/// repository is in restore mode and what the restore has done so far. Absent means not restoring.
public struct RestoreState: Codable, Hashable, Sendable {
    public var active: Bool
    /// The backup restored in this restore, if any.
    public var backup: RestoredBackup?
    /// Why tranlogs are refused, if they are (a backup made in partial logging mode).
    public var logsRefused: String?
    /// Whether the last `restore logs` applied everything the logs held (no target stopped it).
    public var lastLogRestoreReachedEnd: Bool?
    /// The highest fileId seen in any log directory during this restore: the new epoch's first file
    /// is numbered above it, so it can never collide with a file of the abandoned timeline.
    public var highestFileIDSeen: FileID?
    /// The highest epoch seen in any log during this restore: the new epoch is numbered above it, so
    /// two timelines never share an epoch number either.
    public var highestEpochSeen: Epoch?
    /// Set by commitRestore, in the same write that ends restore mode: the epoch this directory
    /// opened as a primary (see `EpochCommit`).
    public var promoted: EpochCommit?
    /// Set while `restore backup` switches the directory to the backup: its commit point.
    public var backupSwitch: BackupSwitch?

    public static let inactive = RestoreState(active: false)

    public init(active: Bool, backup: RestoredBackup? = nil, logsRefused: String? = nil) {
        self.active = active
        self.backup = backup
        self.logsRefused = logsRefused
    }
}

/// What `restore backup` restored.
public struct RestoredBackup: Codable, Hashable, Sendable {
    public var backupID: UUID
    public var label: String?
    public var position: AppliedPosition
    public var loggingMode: LoggingMode
    public var objectCount: Int
    public var files: [String]
}

/// The files a `restore backup` rewrites once the backup's run is written, recorded in
/// `restore.json` as that restore's one commit point. They name the repository in three places
/// (MANIFEST, `understudy.json`, the extent run) and none can change together with another: a
/// crash between them left a directory that did not open ("MANIFEST belongs to repository …").
/// Opening a directory whose `restore.json` holds a switch completes it first, as the restore would
/// have (`Repository.completeBackupSwitch`); each step is a whole-file replacement, so redoing it is
/// harmless.
public struct BackupSwitch: Codable, Hashable, Sendable {
    /// MANIFEST naming the backup's run alone, at the backup's position.
    public var manifest: Manifest
    /// `understudy.json` with the backup's repository id.
    public var config: DataDirectoryConfig
    /// The backup's epoch history, for `epochs`.
    public var epochHistory: EpochHistory
}

enum RestoreStateStore {
    static func read(_ directory: DataDirectory, fileSystem: any TranlogFileSystem) throws(RepositoryError) -> RestoreState {
        guard fileSystem.fileExists(directory.restoreStateFile) else { return .inactive }
        let bytes: [UInt8]
        do { bytes = try fileSystem.readFile(directory.restoreStateFile) } catch { throw .tranlog(error) }
        guard let state = try? JSONDecoder().decode(RestoreState.self, from: Data(bytes)) else {
            throw .dataDirectory(
                path: directory.root.string,
                problem: "\(directory.restoreStateFile.string) is corrupt; it records whether the repository is in restore mode. "
                    + "Restore the data directory from a backup, or remove the file if you know no restore is under way")
        }
        return state
    }

    static func write(_ state: RestoreState, _ directory: DataDirectory, fileSystem: any TranlogFileSystem) throws(RepositoryError) {
        do { try fileSystem.replaceFile(directory.restoreStateFile, contents: JSONCoding.encode(state)[...]) } catch { throw .tranlog(error) }
    }
}
