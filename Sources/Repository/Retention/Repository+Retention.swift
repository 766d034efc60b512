import SystemPackage
import Tranlog

extension Repository {
    /// Who needs which tranlogs now: recovery (MANIFEST), the known standbys, the archiver, and in
    /// restore mode the restore (the file of the applied position).
    public func retention() throws(RepositoryError) -> TranlogRetention {
        let restoreNeeds: FileID? = stateLock.withLock { restoreState.active ? (applied.eventID?.fileID ?? .first) : nil }
        let recoveryNeeds = restoreNeeds == nil ? checkpointLock.withLock { manifest.oldestFileIDNeeded } : nil
        return TranlogRetention(
            files: try tranlogFiles(), recoveryNeeds: recoveryNeeds, standbys: knownStandbys.all, restoreNeeds: restoreNeeds,
            archiveNeeds: archiveProgress.needsFrom)
    }

    /// Every tranlog file with its size (no lock: for sampling the log's growth).
    public func tranlogFiles() throws(RepositoryError) -> [RetainedFile] {
        try TranlogRetention.scanFiles(directory.tranlogs, fileSystem: fileSystem)
    }

    /// `understudy tranlog purge --node`: the same checks and removal as on a stopped node.
    public func purgeTranlogs(through: FileID?, force: Bool, dryRun: Bool) throws(RepositoryError) -> PurgeReport {
        try retentionLock.locked { () throws(RepositoryError) in
            let plan = PurgePlan(try retention(), through: through, force: force)
            return try TranlogPurge.run(plan, through: through, dryRun: dryRun, tranlogs: directory.tranlogs, fileSystem: fileSystem, logger: logger)
        }
    }

    /// Partial logging, after a checkpoint: removes the tranlogs recovery no longer needs, keeping
    /// those a known standby needs up to `maxRetainedBytes`. A standby cut off is named loudly.
    func removeTranlogsForPartialLogging() {
        retentionLock.withLock {
            let retention: TranlogRetention
            do { retention = try self.retention() } catch {
                return logger.warning("could not decide which tranlogs to remove; keeping them all", metadata: ["error": "\(error)"])
            }
            let removal = PartialLoggingRemoval(retention, maxRetainedBytes: configuration.maxRetainedBytes)
            for standby in removal.cutOff {
                let limit = (configuration.maxRetainedBytes ?? 0) >> 20
                logger.critical(
                    "standby \(standby.nodeID) needs \(standby.neededFileID.fileName); removed to stay under --max-retained-mbytes \(limit): re-seed it from a new backup")
            }
            for file in removal.remove { removeQuietly(FilePath(file.path)) }
            guard !removal.remove.isEmpty else { return }
            // A removal a crash undoes only brings back files nothing needs: worth a warning, not a failure.
            do { try fileSystem.syncDirectory(directory.tranlogs) } catch {
                logger.warning("could not sync \(directory.tranlogs) after removing tranlogs", metadata: ["error": "\(error)"])
            }
        }
    }
}
