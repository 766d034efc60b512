import SystemPackage
import Tranlog

extension Repository {
    /// Continuous restore (a standby): applies the records of the node's own tranlogs — a mirror the
    /// receiver writes byte for byte — from the applied position through `seqno`, with every check
    /// of `restore logs`. Only in restore mode. Unlike `restoreLogs` it does not checkpoint each
    /// time: the checkpoint scheduler persists the position periodically, and a restart re-applies
    /// from the last checkpoint (the mirror holds the records). Returns the new applied position.
    @discardableResult
    public func applyLocalLogs(through seqno: Seqno) throws(RepositoryError) -> AppliedPosition {
        guard restoreLock.try() else { throw .busy("another restore operation is in progress") }
        defer { restoreLock.unlock() }
        let (active, start) = stateLock.withLock { (restoreState.active, LogReplay(table: visible, applied: applied, history: history)) }
        guard active else { throw .restoreNotActive }
        guard seqno > start.applied.seqno else { return start.applied }
        var run = LogRestoreRun(replay: start, target: .seqno(seqno))
        let logs = try tranlogCall { () throws(TranlogError) in try TranlogDirectory.scan(directory.tranlogs, fileSystem: fileSystem) }
        var failure: RepositoryError?
        do { try run.read(logs, repositoryID: config.repositoryID, fileSystem: fileSystem) } catch { failure = error }
        publishReplay(run.replay)
        if run.replay.history != start.history {
            do { try EpochHistoryStore.write(run.replay.history, to: directory.epochsFile, fileSystem: fileSystem) } catch { throw .tranlog(error) }
        }
        if let failure { throw failure }
        return run.replay.applied
    }

    /// Makes a replay's result visible (and the head, for after a promote).
    func publishReplay(_ replay: LogReplay) {
        guard replay.records > 0 else { return }
        commitLock.withLock { head = replay.table }
        stateLock.withLock {
            visible = replay.table
            applied = replay.applied
            dirty.merge(replay.dirty) { _, replayed in replayed }
            logBytesSinceCheckpoint += replay.bytes
            history = replay.history
        }
    }
}
