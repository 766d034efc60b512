import SystemPackage
import Tranlog

extension Repository {
    /// Continuous restore (a standby): applies the records of the node's own tranlogs — a mirror the
    /// receiver writes byte for byte — from the applied position through `seqno`, with every check
    /// of `restore logs`. Only in restore mode. Unlike `restoreLogs` it does not checkpoint each
    /// time: the checkpoint scheduler persists the position periodically, and a restart re-applies
    /// from the last checkpoint (the mirror holds the records). Returns the new applied position.
    /// Each step normally reads only the bytes the mirror gained since the last one. `notAfter` (a
    /// delayed standby's apply horizon) also stops it before the first record committed after it.
    @discardableResult
    public func applyLocalLogs(through seqno: Seqno, notAfter horizon: Timestamp? = nil) throws(RepositoryError) -> AppliedPosition {
        try continueRestore(target: .seqno(seqno), horizon: horizon) { (run) throws(RepositoryError) in
            guard seqno > run.replay.applied.seqno else { return }
            try readMirror(&run, through: seqno)
        }
    }

    /// Continuous restore from memory: applies frames the standby's mirror writer checked, synced and
    /// handed over (`MirroredFrames`), in order, through `seqno`, each body decoded once and one batch
    /// ahead of the table on another thread (`WorkAhead`); frames at or before the applied position
    /// are skipped. Stops at the first gap and returns the position
    /// reached: the caller applies what lies past it with `applyLocalLogs`, which reads the mirror.
    @discardableResult
    public func applyMirrored(_ batches: [MirroredFrames], through seqno: Seqno, notAfter horizon: Timestamp? = nil) throws(RepositoryError) -> AppliedPosition {
        try continueRestore(target: .seqno(seqno), horizon: horizon) { (run) throws(RepositoryError) in
            try applyBatches(batches, through: seqno, to: &run)
        }
    }

    /// `applyMirrored`'s work without its publication: the frames applied to a copy of the table that
    /// no reader sees until `publishPrepared`. A standby prepares the frames its mirror writer wrote,
    /// before or while it syncs them, and publishes them once the sync has returned: readers never
    /// see a record that a crash could take back, and the record's replay lag loses the apply.
    public func prepareMirrored(_ batches: [MirroredFrames], through seqno: Seqno) throws(RepositoryError) -> PreparedReplay {
        guard restoreLock.try() else { throw .busy("another restore operation is in progress") }
        defer { restoreLock.unlock() }
        return try startStep(target: .seqno(seqno), horizon: nil) { (run) throws(RepositoryError) in
            try applyBatches(batches, through: seqno, to: &run)
        }
    }

    /// Publishes a prepared step, as `applyMirrored` would have, if the repository still stands where
    /// the step began; nil, publishing nothing, if anything was applied or committed meanwhile (the
    /// caller applies the frames again the usual way). Only for frames that are synced.
    public func publishPrepared(_ prepared: PreparedReplay) throws(RepositoryError) -> AppliedPosition? {
        guard restoreLock.try() else { throw .busy("another restore operation is in progress") }
        defer { restoreLock.unlock() }
        guard stateLock.withLock({ restoreState.active && applied == prepared.start }) else { return nil }
        return try finishStep(prepared)
    }

    /// Applies the batches after the run's position through `seqno`, the first prepared here while
    /// the rest are prepared on another thread.
    private func applyBatches(_ batches: [MirroredFrames], through seqno: Seqno, to run: inout LogRestoreRun) throws(RepositoryError) {
        // Only batches with something to apply are prepared: a delayed standby asks again and
        // again for batches that begin past its horizon.
        let applied = run.replay.applied.seqno
        let wanted = batches.drop { ($0.lastSeqno ?? .zero) <= applied }.prefix { batch in
            batch.headers.first.map { !run.isPastHorizon($0.time) } ?? true
        }
        guard let first = wanted.first else { return }
        // The first batch is prepared here while the queue starts on the rest: a caught-up
        // standby's step is usually one batch, and a hop to another thread is latency it
        // would add to every record's replay lag.
        let rest = Array(wanted.dropFirst())
        let ahead = rest.isEmpty ? nil : WorkAhead<PreparedFrames, Never>(depth: 1, on: applyPreparation) { emit in
            for batch in rest { guard emit(PreparedFrames(batch)) else { return } }
        }
        // An applied batch is freed on another thread: deallocating its objects and its frame
        // bytes took about a tenth of the applier's time during a catch-up.
        func apply(_ batch: consuming PreparedFrames) throws(RepositoryError) -> Bool {
            do {
                let applied = try run.apply(&batch, through: seqno)
                appliedRelease.release(consume batch)
                return applied
            } catch {
                appliedRelease.release(consume batch)
                throw error
            }
        }
        guard try apply(PreparedFrames(first)) else { return }
        while let batch = ahead?.next() {
            guard try apply(consume batch) else { return }
        }
    }

    /// One continuous-restore step: what `body` applies is published (and kept applied after an
    /// error in the middle), and the next step resumes just past it.
    private func continueRestore(
        target: RestoreTarget, horizon: Timestamp?, _ body: (inout LogRestoreRun) throws(RepositoryError) -> Void
    ) throws(RepositoryError) -> AppliedPosition {
        guard restoreLock.try() else { throw .busy("another restore operation is in progress") }
        defer { restoreLock.unlock() }
        return try finishStep(startStep(target: target, horizon: horizon, body))
    }

    /// Runs `body` on a copy of the table from the applied position; an error in the middle is kept
    /// with what came before it. Under `restoreLock`.
    private func startStep(
        target: RestoreTarget, horizon: Timestamp?, _ body: (inout LogRestoreRun) throws(RepositoryError) -> Void
    ) throws(RepositoryError) -> PreparedReplay {
        let (active, start) = stateLock.withLock { (restoreState.active, LogReplay(table: visible, applied: applied, history: history)) }
        guard active else { throw .restoreNotActive }
        var run = LogRestoreRun(replay: start, target: target)
        run.horizon = horizon
        var failure: RepositoryError?
        do { try body(&run) } catch { failure = error }
        return PreparedReplay(start: start.applied, run: run, failure: failure)
    }

    /// Publishes a step (also when nothing was applied, e.g. a delayed standby waiting for its
    /// horizon: the next step then resumes just past the applied record instead of reading its file
    /// from the start), then throws the error that stopped it, if one did. Under `restoreLock`.
    private func finishStep(_ step: PreparedReplay) throws(RepositoryError) -> AppliedPosition {
        if let point = step.run.resumePoint { applyResume = point }
        try persistHistory(of: step.run.replay)
        publishReplay(step.run.replay)
        if let failure = step.failure { throw failure }
        return step.run.replay.applied
    }

    /// Reads the new bytes of the file the last step stopped in when it still stands where the
    /// repository does, or — when that step ended with a fileEnd — the files from the next one on
    /// (a rotation must not re-read the 64 MiB file just applied). Otherwise, or when that does not
    /// reach `seqno` (the mirror rotated, or something needs the full checks' verdict), scans and
    /// reads from the file holding the applied record, as `restore logs` does.
    private func readMirror(_ run: inout LogRestoreRun, through seqno: Seqno) throws(RepositoryError) {
        let applied = run.replay.applied
        if case .inFile(let point) = applyResume, point.lastSeqno == applied.seqno, point.lastEventID == applied.eventID,
            point.lastCRC == applied.recordCRC
        {
            try run.resume(at: point, fileSystem: fileSystem)
        }
        guard run.replay.applied.seqno < seqno, !run.stoppedByTarget else { return }
        // The fileEnd may have been applied by the last step or just now by the resumed read.
        var nextFile: FileID?
        if case .nextFile(let fileID, let lastSeqno, let lastCRC) = run.resumePoint ?? applyResume,
            lastSeqno == run.replay.applied.seqno, lastCRC == run.replay.applied.recordCRC
        {
            nextFile = fileID
        }
        let logs = try tranlogCall { () throws(TranlogError) in try TranlogDirectory.scan(directory.tranlogs, fileSystem: fileSystem) }
        if let nextFile, try run.readNextFile(nextFile, in: logs, repositoryID: config.repositoryID, fileSystem: fileSystem) { return }
        try run.read(logs, repositoryID: config.repositoryID, fileSystem: fileSystem)
    }

    /// Writes the epoch history a replay extended (it applied an epochBegin) before its position is
    /// published: a checkpoint taken from then on records a position in that epoch, which a restart
    /// must find in the history it reads.
    func persistHistory(of replay: LogReplay) throws(RepositoryError) {
        guard stateLock.withLock({ history != replay.history }) else { return }
        do { try EpochHistoryStore.write(replay.history, to: directory.epochsFile, fileSystem: fileSystem) } catch { throw .tranlog(error) }
    }

    /// Makes a replay's result visible (and the head, for after a promote).
    /// A standby, like a primary, asks for a checkpoint once the log since the last one passes
    /// `checkpointLogBytes`: its restart time and dirty set stay bounded between the timer's.
    func publishReplay(_ replay: LogReplay) {
        guard replay.records > 0 else { return }
        let replacedHead = commitLock.withLock { () -> ObjectTable in
            defer { head = replay.table }
            return head
        }
        let (replacedVisible, logBytes) = stateLock.withLock { () -> (ObjectTable, Int) in
            let replaced = visible
            visible = replay.table
            applied = replay.applied
            dirty.append(replay.dirty)
            logBytesSinceCheckpoint += replay.bytes
            history = replay.history
            return (replaced, logBytesSinceCheckpoint)
        }
        // The tables replaced hold the nodes the step copied: freeing them took a catch-up's
        // applier tens of milliseconds per step, under the locks readers take.
        appliedRelease.release((consume replacedHead, consume replacedVisible))
        if logBytes >= configuration.checkpointLogBytes { scheduler?.requestCheckpoint() }
    }
}

/// A continuous-restore step applied to a copy of the table and not published yet
/// (`Repository.prepareMirrored`).
public struct PreparedReplay: Sendable {
    /// The applied position the step began from: it is published only onto that position.
    let start: AppliedPosition
    let run: LogRestoreRun
    /// What stopped the step in the middle; what came before it is published all the same.
    let failure: RepositoryError?

    /// The last seqno the step applied.
    public var appliedSeqno: Seqno { run.replay.applied.seqno }
}
