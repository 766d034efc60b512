import Foundation
import SystemPackage
import Tranlog

/// A full backup under way, for `status`.
public struct BackupProgress: Codable, Hashable, Sendable {
    public var files: [String]
    public var startedAt: Timestamp
    public var position: AppliedPosition
    public var objectsWritten: Int
    public var objectsTotal: Int
}

/// What `restore backup` did.
public struct BackupRestoreReport: Codable, Hashable, Sendable {
    public var objectCount: Int
    public var restoredTo: AppliedPosition
    public var repositoryID: RepositoryID
    public var backupLoggingMode: LoggingMode
    public var message: String
}

extension Repository {
    /// The manual's fullBackupTo: family: a transactionally consistent copy of every live object as
    /// of one position, written from a snapshot while commits go on. Targets are checked before
    /// anything is written; on any error every file created is deleted. One backup at a time.
    public func fullBackup(to targets: [BackupTarget], compress: Bool, label: String? = nil) throws(RepositoryError) -> BackupSummary {
        let prepared = try backupCall { () throws(BackupError) in try BackupWriter.prepare(targets, compress: compress, fileSystem: fileSystem) }
        let files = prepared.map(\.path.string)
        try stateLock.locked { () throws(RepositoryError) in
            if let running = backupInProgress {
                throw .busy(
                    "a full backup to \(running.files.joined(separator: ", ")) is already in progress (started \(running.startedAt.iso8601), "
                        + "\(running.objectsWritten) of \(running.objectsTotal) objects written); wait for it to finish")
            }
            backupInProgress = BackupProgress(files: files, startedAt: .now(), position: applied, objectsWritten: 0, objectsTotal: 0)
        }
        defer { stateLock.withLock { backupInProgress = nil } }
        let marker = "full backup to \(files.joined(separator: ", "))"
        if commitLock.withLock({ writer != nil }) { _ = try appendMarker(.backupStart(label: marker)) }
        let (table, position, history) = stateLock.withLock {
            backupInProgress?.position = applied
            backupInProgress?.objectsTotal = visible.count
            return (visible, applied, self.history)
        }
        logger.notice("Full backup started", metadata: ["files": "\(files)", "position": "\(position)", "objects": "\(table.count)"])
        let description = BackupDescription(
            repositoryID: config.repositoryID, position: position, loggingMode: config.loggingMode, epochHistory: history, createdAt: .now(),
            label: label)
        let summary: BackupSummary
        do {
            summary = try backupCall { () throws(BackupError) in
                try BackupWriter.write(table, description: description, to: prepared, compress: compress, fileSystem: fileSystem) { written in
                    self.stateLock.withLock { self.backupInProgress?.objectsWritten = written }
                }
            }
        } catch {
            logger.error("Full backup failed; every file it created was deleted", metadata: ["files": "\(files)", "error": "\(error)"])
            throw error
        }
        if commitLock.withLock({ writer != nil }) { _ = try appendMarker(.backupEnd(label: marker)) }
        logger.notice(
            "Full backup completed", metadata: ["files": "\(summary.files)", "objects": "\(summary.objectCount)", "bytes": "\(summary.byteCount)"])
        return summary
    }

    /// The manual's restoreFromBackup(s): (restore mode only). Reads and checks the whole backup
    /// first; only then replaces the repository's content, position and epoch history with it — so
    /// on any error the repository is as it was. The directory takes the backup's repository id, and
    /// tranlogs of another repository are set aside. A backup made in partial logging mode cannot be
    /// rolled forward: tranlogs are refused afterwards.
    public func restoreBackup(from paths: [FilePath]) throws(RepositoryError) -> BackupRestoreReport {
        guard restoreLock.try() else { throw .busy("another restore operation is in progress") }
        defer { restoreLock.unlock() }
        guard stateLock.withLock({ restoreState.active }) else { throw .restoreNotActive }
        let reader = try backupCall { () throws(BackupError) in try BackupReader.open(paths, fileSystem: fileSystem) }
        let backup = reader.description
        var table = ObjectTable()
        try backupCall { () throws(BackupError) in
            try reader.forEachObject { key, object in table.load(ExtentEntry(key: key, value: object.value, seqno: object.seqno)) }
        }
        var restoredConfig = config
        restoredConfig.repositoryID = backup.repositoryID
        let partial = backup.loggingMode == .partial
        var state = RestoreState(
            active: true,
            backup: RestoredBackup(
                backupID: backup.backupID, label: backup.label, position: backup.position, loggingMode: backup.loggingMode,
                objectCount: table.count, files: paths.map(\.string)),
            logsRefused: partial ? "the backup was made in partial logging mode, so tranlogs cannot roll it forward" : nil)
        try checkpointLock.locked { () throws(RepositoryError) in
            let replacedRuns = manifest.runs
            let newManifest = try writeRestoredRun(table, at: backup.position, repositoryID: backup.repositoryID)
            var switching = state
            switching.backupSwitch = BackupSwitch(manifest: newManifest, config: restoredConfig, epochHistory: backup.epochHistory)
            do throws(RepositoryError) {
                // The commit point: from here on, a crash completes the switch when the repository opens.
                try RestoreStateStore.write(switching, directory, fileSystem: fileSystem)
                state = try Self.completeBackupSwitch(switching, directory: directory, fileSystem: fileSystem)
            } catch {
                // The directory may be part way to the backup (a failed sync of the commit point's own
                // rename may still have landed) and memory is not: hold everything that would act on
                // memory (`refuseDuringBackupSwitch`) until this runs again or the node restarts. A
                // run again is numbered past this one's, which the directory may name until then.
                stateLock.withLock { restoreState = switching }
                manifest.reserveNumbers(of: newManifest)
                throw error
            }
            manifest = newManifest
            for old in replacedRuns { removeQuietly(directory.extents.appending(old.fileName)) }
        }
        config = restoredConfig
        commitLock.withLock { head = table }
        stateLock.withLock {
            visible = table
            applied = backup.position
            dirty = ChangedKeys()
            history = backup.epochHistory
            restoreState = state
        }
        let message = partial
            ? "Restore complete (backup made while in partial logging mode)"
            : "The restore from backup completed, with \(table.count) objects restored. Ready for restore from transaction log(s)."
        logger.notice("restore from backup", metadata: ["objects": "\(table.count)", "position": "\(backup.position)"])
        return BackupRestoreReport(
            objectCount: table.count, restoredTo: backup.position, repositoryID: backup.repositoryID, backupLoggingMode: backup.loggingMode,
            message: message)
    }

    /// Writes the restored objects as one new run, which nothing names yet (a crash leaves it a
    /// leftover, removed at open); returns the MANIFEST that names it alone (under `checkpointLock`).
    private func writeRestoredRun(_ table: ObjectTable, at position: AppliedPosition, repositoryID: RepositoryID) throws(RepositoryError) -> Manifest {
        let generation = manifest.nextRunGeneration
        let entries = table.sortedObjects().map { ExtentEntry(key: $0.key, value: $0.object.value, seqno: $0.object.seqno) }
        let run = try extentCall { () throws(ExtentError) in
            try ExtentRunWriter.write(
                entries, generation: generation, repositoryID: repositoryID,
                to: directory.extents.appending(ExtentRunSummary.fileName(generation: generation)), fileSystem: fileSystem)
        }
        return Manifest(
            formatVersion: manifest.formatVersion, repositoryID: repositoryID, generation: manifest.generation + 1, runs: [run],
            checkpoint: position, oldestFileIDNeeded: position.eventID?.fileID ?? .first, cleanShutdown: false,
            nextRunGeneration: generation + 1, digest: table.digest)
    }

    /// Rewrites what a backup switch names (MANIFEST, `understudy.json`, `epochs`), sets aside the
    /// tranlogs of other repositories, and records the restore without the switch: the rest of a
    /// `restore backup` after its commit point, or, at open, of one a crash interrupted there.
    static func completeBackupSwitch(
        _ state: RestoreState, directory: DataDirectory, fileSystem: any TranlogFileSystem
    ) throws(RepositoryError) -> RestoreState {
        guard let switching = state.backupSwitch else { return state }
        try extentCall { () throws(ExtentError) in try ManifestStore.write(switching.manifest, directory: directory.extents, fileSystem: fileSystem) }
        do {
            try fileSystem.replaceFile(directory.configFile, contents: JSONCoding.encode(switching.config)[...])
            try EpochHistoryStore.write(switching.epochHistory, to: directory.epochsFile, fileSystem: fileSystem)
        } catch {
            throw .tranlog(error)
        }
        _ = try TranlogSetAside(directory: directory, fileSystem: fileSystem, repositoryID: switching.config.repositoryID)
            .setAsideOtherRepositories(into: "set-aside-other-repository")
        var completed = state
        completed.backupSwitch = nil
        try RestoreStateStore.write(completed, directory, fileSystem: fileSystem)
        return completed
    }
}

/// Runs a backup operation, wrapping its error for the repository.
func backupCall<Value>(_ body: () throws(BackupError) -> Value) throws(RepositoryError) -> Value {
    do { return try body() } catch { throw .backup(error) }
}

extension Repository {
    /// After a `restore backup` that failed past its commit point, memory holds the node from before
    /// it: applying logs, committing or checkpointing would act on that state and write it over the
    /// switched directory. Refused until the restore runs again or the node restarts.
    func refuseDuringBackupSwitch(_ state: RestoreState) throws(RepositoryError) {
        if state.backupSwitch != nil { throw .backupSwitchPending(files: state.backup?.files ?? []) }
    }
}
