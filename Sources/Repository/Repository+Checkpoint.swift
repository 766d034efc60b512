import SystemPackage
import Tranlog

extension Repository {
    /// Takes a checkpoint of the visible state: the objects changed since the last one become a new
    /// extent run (runs are merged when there are too many), MANIFEST switches atomically to the new
    /// run set and position, and a checkpoint record goes into the tranlog. In partial logging mode
    /// tranlogs recovery no longer needs are then removed (except what known standbys need). Returns nil when nothing changed.
    @discardableResult
    public func checkpoint(cleanShutdown: Bool = false) throws(RepositoryError) -> Manifest? {
        // The record is written under the lock too: a suspension or a pin that waited for this
        // checkpoint finds it whole, record included, and the log does not move behind its back.
        let switched = try checkpointLock.locked { () throws(RepositoryError) -> (manifest: Manifest, logged: Bool)? in
            guard let manifest = try switchCheckpoint(cleanShutdown: cleanShutdown) else { return nil }
            logger.info(
                "checkpoint",
                metadata: ["seqno": "\(manifest.checkpoint.seqno)", "manifest.generation": "\(manifest.generation)", "runs": "\(manifest.runs.count)"])
            // In restore mode nothing is written to the tranlogs, and they are what the restore reads.
            guard commitLock.withLock({ writer != nil }) else { return (manifest, false) }
            _ = try appendMarker(.checkpoint(CheckpointInfo(extentGeneration: manifest.generation, oldestFileIDNeeded: manifest.oldestFileIDNeeded)))
            return (manifest, true)
        }
        guard let switched else { return nil }
        if switched.logged, config.loggingMode == .partial { removeTranlogsForPartialLogging() }
        return switched.manifest
    }

    /// Writes the run and switches MANIFEST (under `checkpointLock`); nil when nothing changed or
    /// checkpoints are suspended or pinned. A clean shutdown ends a suspension and takes the final
    /// checkpoint (a pinned copy dies with the process anyway).
    private func switchCheckpoint(cleanShutdown: Bool) throws(RepositoryError) -> Manifest? {
        if cleanShutdown { suspendedUntil = nil }
        // Stopping with a backup switch pending leaves it to the next open, which completes it.
        do { try refuseDuringBackupSwitch(stateLock.withLock { restoreState }) } catch {
            if cleanShutdown { return nil }
            throw error
        }
        if suspensionStatusLocked.suspended || (checkpointPins > 0 && !cleanShutdown) { return nil }
        checkpointInProgress = true
        defer { checkpointInProgress = false }
        let taken = takeChanges()
        guard !taken.changes.isEmpty || cleanShutdown else { return nil }
        do {
            manifest = try writeCheckpoint(taken.table, position: taken.position, changes: taken.changes, cleanShutdown: cleanShutdown)
            return manifest
        } catch {
            // Nothing switched: the changes still need a checkpoint.
            stateLock.withLock {
                dirty.prepend(taken.changes)
                logBytesSinceCheckpoint += taken.logBytes
            }
            throw error
        }
    }

    /// The visible state and what changed since the last checkpoint, taken atomically.
    private func takeChanges() -> (table: ObjectTable, position: AppliedPosition, changes: ChangedKeys, logBytes: Int) {
        stateLock.withLock {
            let taken = (visible, applied, dirty, logBytesSinceCheckpoint)
            dirty = ChangedKeys()
            logBytesSinceCheckpoint = 0
            return taken
        }
    }

    private func writeCheckpoint(
        _ table: ObjectTable, position: AppliedPosition, changes: ChangedKeys, cleanShutdown: Bool
    ) throws(RepositoryError) -> Manifest {
        var runs = manifest.runs
        var nextGeneration = manifest.nextRunGeneration
        var obsolete: [String] = []
        if !changes.isEmpty {
            runs.append(try writeRun(changes.entries(of: table, after: manifest.checkpoint.seqno), generation: nextGeneration))
            nextGeneration += 1
        }
        if runs.count > configuration.maxRuns {
            obsolete = runs.map(\.fileName)
            runs = [try mergeRuns(runs, generation: nextGeneration)]
            nextGeneration += 1
        }
        let next = Manifest(
            formatVersion: manifest.formatVersion, repositoryID: config.repositoryID, generation: manifest.generation + 1, runs: runs,
            checkpoint: position, oldestFileIDNeeded: position.eventID?.fileID ?? manifest.oldestFileIDNeeded,
            cleanShutdown: cleanShutdown, nextRunGeneration: nextGeneration, digest: table.digest)
        do throws(RepositoryError) {
            try extentCall { () throws(ExtentError) in try ManifestStore.write(next, directory: directory.extents, fileSystem: fileSystem) }
        } catch {
            manifest.reserveNumbers(of: next)
            throw error
        }
        // Old runs go only after the switch: until then they are what recovery would read.
        for name in obsolete { removeQuietly(directory.extents.appending(name)) }
        return next
    }

    private func writeRun(_ entries: [ExtentEntry], generation: UInt64) throws(RepositoryError) -> ExtentRunSummary {
        try extentCall { () throws(ExtentError) in
            try ExtentRunWriter.write(
                entries, generation: generation, repositoryID: config.repositoryID,
                to: directory.extents.appending(ExtentRunSummary.fileName(generation: generation)), fileSystem: fileSystem)
        }
    }

    private func mergeRuns(_ runs: [ExtentRunSummary], generation: UInt64) throws(RepositoryError) -> ExtentRunSummary {
        try extentCall { () throws(ExtentError) in
            let opened = try runs.reversed().map { summary throws(ExtentError) in
                try ExtentRun.open(directory.extents.appending(summary.fileName), repositoryID: config.repositoryID, fileSystem: fileSystem)
            }
            return try ExtentMerger.merge(
                opened, generation: generation, dropTombstones: true, repositoryID: config.repositoryID,
                to: directory.extents.appending(ExtentRunSummary.fileName(generation: generation)), fileSystem: fileSystem)
        }
    }

    /// Removes a file nothing needs any more; failing leaves only garbage, so it is logged, not thrown.
    func removeQuietly(_ path: FilePath) {
        do { try fileSystem.removeFile(path) } catch {
            logger.warning("could not remove an obsolete file", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
