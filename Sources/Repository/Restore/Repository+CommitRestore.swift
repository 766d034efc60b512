import Logging
import SystemPackage
import Tranlog

/// commitRestore (`restore commit`, and the last step of a promote): restore mode ends and a new
/// epoch begins at the restored position, with one durable commit point.
///
/// 1. Prepare (idempotent; a crash here restarts in restore mode, exactly as before): make sure a
///    restart can recover the restored position (the records since the last checkpoint are in
///    the local tranlogs, or a checkpoint is taken now), reserve the fileIds of the abandoned
///    timeline, and set its tranlogs aside.
/// 2. Commit point: `restore.json` is replaced, in one atomic rename, by a state that is no longer
///    restoring and carries the `EpochCommit` (the epoch, its first file, the restored record, the
///    time).
/// 3. Completion (idempotent, driven by that record; a crash here is completed when the
///    repository opens next, or by running promote again): the epoch's first tranlog file with
///    its epochBegin record, then the epoch history. Commits are accepted once both are durable.
extension Repository {
    /// Warns when the last log restore did not apply every available record (the manual's
    /// "commitRestore not immediately preceded by a complete log restore"). `by` names the command
    /// (`restore commit` or `promote`) in the record.
    public func commitRestore(by command: String = "restore commit") throws(RepositoryError) -> CommitRestoreReport {
        guard restoreLock.try() else { throw .busy("another restore operation is in progress") }
        defer { restoreLock.unlock() }
        let (state, position, objectCount, current) = stateLock.withLock { (restoreState, applied, visible.count, history.current) }
        guard state.active else {
            if let pending = pendingCommit { return try complete(pending, objectCount: objectCount, interrupted: true, warning: nil) }
            throw .restoreNotActive
        }
        try refuseDuringBackupSwitch(state)
        let (commit, setAside) = try prepare(state, at: position, after: current.epoch, by: command)
        var committed = RestoreState.inactive
        committed.promoted = commit
        try RestoreStateStore.write(committed, directory, fileSystem: fileSystem)
        stateLock.withLock { restoreState = committed }
        logger.notice("restore committed", metadata: ["epoch": "\(commit.epoch)", "fileID": "\(commit.fileID)", "restoredTo": "\(position)"])
        let warning = state.lastLogRestoreReachedEnd == true
            ? nil : "commitRestore not immediately preceded by a complete log restore: some transactions may not be restored"
        var report = try complete(commit, objectCount: objectCount, interrupted: false, warning: warning)
        report.setAside = setAside
        return report
    }

    /// A commit made durable whose completion failed (an I/O error after the commit point): commits
    /// are refused until it completes (`commitRestore` or a restart completes it).
    public var pendingCommit: EpochCommit? {
        guard let commit = promotion else { return nil }
        return commitLock.withLock { writer == nil } ? commit : nil
    }

    private func complete(_ commit: EpochCommit, objectCount: Int, interrupted: Bool, warning: String?) throws(RepositoryError) -> CommitRestoreReport {
        let opened = try EpochFirstFile(directory: directory, config: config, configuration: configuration, fileSystem: fileSystem, logger: logger)
            .open(commit)
        let newHistory: EpochHistory
        do { newHistory = try extendHistory(with: commit) } catch {
            closeAfterFailure(opened.writer)
            throw error
        }
        commitLock.withLock {
            opened.writer.keepRecentFrames(in: recentFrames)
            self.writer = opened.writer
            head = stateLock.withLock { visible }
        }
        stateLock.withLock {
            applied = opened.epochBegin
            history = newHistory
        }
        logger.notice(interrupted ? "completed an interrupted commitRestore" : "commitRestore", metadata: [
            "epoch": "\(commit.epoch)", "seqno": "\(opened.epochBegin.seqno)", "eventID": "\(opened.epochBegin.eventID.map { "\($0)" } ?? "?")",
        ])
        let begin = opened.epochBegin
        return CommitRestoreReport(
            epoch: commit.epoch, parentEpoch: commit.parentEpoch, epochBegin: begin, objectCount: objectCount, setAside: [],
            warning: warning, completedInterrupted: interrupted,
            message: (interrupted ? "Completed the commit of epoch \(commit.epoch) that an error had interrupted (\(commit.by) at "
                + "\(commit.time.iso8601)). " : "The restore was committed: ")
                + "epoch \(commit.epoch) begins at seqno \(begin.seqno) (\(begin.eventID.map { "\($0)" } ?? "?")), "
                + "continuing \(commit.restoredTo) with \(objectCount) objects. Commits are accepted.")
    }

    /// The epoch history with the committed epoch, durable (already there when a completion is redone).
    private func extendHistory(with commit: EpochCommit) throws(RepositoryError) -> EpochHistory {
        var newHistory = stateLock.withLock { history }
        if newHistory.entries.contains(where: { $0.epoch == commit.epoch }) { return newHistory }
        do {
            try newHistory.append(commit.historyEntry)
            try EpochHistoryStore.write(newHistory, to: directory.epochsFile, fileSystem: fileSystem)
        } catch let error as TranlogError {
            throw .tranlog(error)
        } catch {
            throw .forkInTime("the committed epoch \(commit.epoch) does not continue this repository's epoch history: \(error)")
        }
        return newHistory
    }

    /// At open, before recovery reads the tranlogs: completes a commit whose completion a crash
    /// interrupted (its epoch is not in the history yet). Recovery then replays the epochBegin and
    /// records the epoch in the history.
    static func completeInterruptedCommit(
        _ state: RestoreState, directory: DataDirectory, config: DataDirectoryConfig, configuration: RepositoryConfiguration,
        fileSystem: any TranlogFileSystem, logger: Logger
    ) throws(RepositoryError) {
        guard !state.active, let commit = state.promoted else { return }
        let history = try EpochHistoryStore.read(directory.epochsFile, fileSystem: fileSystem)
        guard !history.entries.contains(where: { $0.epoch == commit.epoch }) else { return }
        logger.notice("completing the commit of epoch \(commit.epoch) (\(commit.by) at \(commit.time.iso8601)) that a crash interrupted")
        let file = EpochFirstFile(directory: directory, config: config, configuration: configuration, fileSystem: fileSystem, logger: logger)
        if case .written(let writer, _) = try file.ensure(commit) {
            try tranlogCall { () throws(TranlogError) in try writer.close() }
        }
    }

    private func closeAfterFailure(_ writer: TranlogWriter) {
        do { try writer.close() } catch {
            logger.warning("closing the new epoch's tranlog after a failed commit failed too", metadata: ["error": "\(error)"])
        }
    }

    /// Step 1: everything before the commit point. Returns the commit to make durable and the files set aside.
    private func prepare(
        _ state: RestoreState, at position: AppliedPosition, after currentEpoch: Epoch, by command: String
    ) throws(RepositoryError) -> (EpochCommit, [String]) {
        try keepRecoverable(position)
        let epoch = Epoch(max(currentEpoch, state.highestEpochSeen ?? .none).rawValue + 1)
        let aside = TranlogSetAside(directory: directory, fileSystem: fileSystem, repositoryID: config.repositoryID)
        let highest = try aside.highestFileID(position)
        if highest > (position.eventID?.fileID ?? FileID(0)), highest > (state.highestFileIDSeen ?? FileID(0)) {
            // Files beyond the restore point are about to move: remember their fileIds first, so a
            // commit redone after a crash still numbers the new epoch above them.
            var reserved = state
            reserved.highestFileIDSeen = highest
            try RestoreStateStore.write(reserved, directory, fileSystem: fileSystem)
            stateLock.withLock { restoreState = reserved }
        }
        let moved = try aside.clear(after: position, into: "set-aside-before-epoch-\(epoch)")
        let commit = EpochCommit(
            epoch: epoch, parentEpoch: position.epoch, restoredTo: position,
            fileID: FileID(max(highest, state.highestFileIDSeen ?? FileID(0)).rawValue + 1), time: .now(), sourceID: config.sourceID,
            by: command)
        return (commit, moved)
    }

    /// After the commit, a restart recovers from the checkpoint in MANIFEST through the restore
    /// point into the new epoch: the records in between must be in the local tranlogs (a standby's
    /// mirror holds them), or the checkpoint must stand at the restore point (logs restored from an
    /// archive are not copied here), which it is made to.
    /// A promote does not wait for a checkpoint in progress (a standby's can take most of a second):
    /// it reads MANIFEST as last switched. That checkpoint can only switch it to a later position
    /// needing no older file, which the local tranlogs found here then cover too.
    private func keepRecoverable(_ position: AppliedPosition) throws(RepositoryError) {
        let manifest = lastSwitchedManifest
        let (checkpointed, needed) = (manifest.checkpoint, manifest.oldestFileIDNeeded)
        if checkpointed.seqno == position.seqno && checkpointed.recordCRC == position.recordCRC { return }
        let local = Set(try tranlogCall { () throws(TranlogError) in try TranlogDirectory.scan(directory.tranlogs, fileSystem: fileSystem) }
            .files.filter { !$0.isCompressed }.map(\.fileID))
        if let last = position.eventID?.fileID, needed <= last, (needed.rawValue...last.rawValue).allSatisfy({ local.contains(FileID($0)) }) {
            return
        }
        try checkpoint()
        let now = lastSwitchedManifest.checkpoint
        guard now.seqno == position.seqno else {
            throw .busy(
                "cannot commit the restore yet: the tranlogs holding seqno \(checkpointed.seqno.next)…\(position.seqno) are not in "
                    + "\(directory.tranlogs.string) and a checkpoint could not be taken (checkpoints are suspended?): resume "
                    + "checkpoints (`understudy checkpoints resume`) and commit again")
        }
    }
}
