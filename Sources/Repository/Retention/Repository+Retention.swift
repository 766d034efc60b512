import SystemPackage
import Tranlog

extension Repository {
    /// Who needs which tranlogs now: recovery (MANIFEST), the known standbys, the archiver, and in
    /// restore mode the restore (the file of the applied position). Lists the tranlog directory;
    /// never waits for a checkpoint in progress: recovery needs what MANIFEST as last switched
    /// names, which a checkpoint only moves forward.
    public func retention() throws(RepositoryError) -> TranlogRetention {
        let restoreNeeds: FileID? = stateLock.withLock { restoreState.active ? (applied.eventID?.fileID ?? .first) : nil }
        let recoveryNeeds = restoreNeeds == nil ? lastSwitchedManifest.oldestFileIDNeeded : nil
        let expired = Set(expiredStandbys().map(\.nodeID))
        return TranlogRetention(
            files: try tranlogFiles(), recoveryNeeds: recoveryNeeds, standbys: knownStandbys.all.filter { !expired.contains($0.nodeID) },
            restoreNeeds: restoreNeeds, archiveNeeds: archiveProgress.needsFrom)
    }

    /// Known standbys not heard from for longer than `standbySlotExpiry`: their tranlogs are no longer
    /// kept (they stay listed, marked expired, until they come back or are forgotten). Each expiry is
    /// logged once, and a standby that comes back is welcomed back in the log too.
    public func expiredStandbys(at now: Timestamp = .now()) -> [KnownStandby] {
        let expired = knownStandbys.all.filter { $0.hasExpired(configuration.standbySlotExpiry, at: now) }
        let names = Set(expired.map(\.nodeID))
        let (newlyExpired, back) = expiredLock.withLock {
            defer { expiredLogged = names }
            return (expired.filter { !expiredLogged.contains($0.nodeID) }, expiredLogged.subtracting(names))
        }
        for standby in newlyExpired {
            logger.warning(
                "standby \(standby.nodeID) not heard from since \(standby.lastSeen.iso8601): past --standby-slot-expiry, its tranlogs are no longer kept (it must be re-seeded if they are removed before it returns)",
                metadata: ["standby": "\(standby.nodeID)"])
        }
        for nodeID in back.sorted() { logger.notice("standby \(nodeID) is back within --standby-slot-expiry; its tranlogs are kept again") }
        return expired
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
            // A removal that fails leaves files nothing needs: worth a warning, not a failure.
            do { try TranlogPurge.removeOldestFirst(removal.remove, tranlogs: directory.tranlogs, fileSystem: fileSystem) } catch {
                logger.warning("could not remove the tranlogs nothing needs; the next checkpoint tries again", metadata: ["error": "\(error)"])
            }
        }
    }
}
