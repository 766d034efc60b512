import Logging
import Tranlog

/// The tranlogs of a stopped node, for `understudy tranlog purge --data` and `understudy standbys
/// forget --data`: holds the data directory lock (so no node starts meanwhile) without recovering
/// the repository — MANIFEST, `restore.json`, `standbys.json` and `archive.json` say who needs which files.
public final class StoppedRepositoryLogs {
    public let directory: DataDirectory
    private let fileSystem: any TranlogFileSystem
    private let lock: DirectoryLock
    private let logger: Logger
    public let knownStandbys: KnownStandbys

    public init(_ directory: DataDirectory, fileSystem: any TranlogFileSystem = PosixFileSystem(), logger: Logger) throws(RepositoryError) {
        let config = try directory.readConfig(fileSystem: fileSystem)
        lock = try DirectoryLock(directory, fileSystem: fileSystem)
        do {
            _ = try Recovery.readManifest(directory, config: config, fileSystem: fileSystem)
            knownStandbys = try KnownStandbys(directory: directory, fileSystem: fileSystem)
        } catch {
            lock.release()
            throw error
        }
        self.directory = directory
        self.fileSystem = fileSystem
        self.logger = logger
    }

    /// Who needs which files. In restore mode the restore needs the file of its applied position,
    /// which on a stopped node is the checkpoint's (restore operations end with a checkpoint).
    public func retention() throws(RepositoryError) -> TranlogRetention {
        let config = try directory.readConfig(fileSystem: fileSystem)
        let manifest = try Recovery.readManifest(directory, config: config, fileSystem: fileSystem)
        let restoring = try RestoreStateStore.read(directory, fileSystem: fileSystem).active
        return TranlogRetention(
            files: try TranlogRetention.scanFiles(directory.tranlogs, fileSystem: fileSystem),
            recoveryNeeds: restoring ? nil : manifest.oldestFileIDNeeded, standbys: knownStandbys.all,
            restoreNeeds: restoring ? (manifest.checkpoint.eventID?.fileID ?? .first) : nil,
            archiveNeeds: try ArchiveProgress.persisted(directory, fileSystem: fileSystem))
    }

    public func purge(through: FileID?, force: Bool, dryRun: Bool) throws(RepositoryError) -> PurgeReport {
        let plan = PurgePlan(try retention(), through: through, force: force)
        return try TranlogPurge.run(plan, through: through, dryRun: dryRun, tranlogs: directory.tranlogs, fileSystem: fileSystem, logger: logger)
    }

    public func close() {
        lock.release()
    }
}
