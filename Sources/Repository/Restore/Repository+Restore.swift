import Foundation
import SystemPackage
import Tranlog

extension Repository {
    public var isRestoring: Bool { stateLock.withLock { restoreState.active } }

    /// Puts a stopped repository into restore mode (`understudy start --restore-mode`). It stays
    /// there, across restarts, until commitRestore.
    public static func enterRestoreMode(_ directory: DataDirectory, fileSystem: any TranlogFileSystem = PosixFileSystem()) throws(RepositoryError) {
        _ = try directory.readConfig(fileSystem: fileSystem)
        let lock = try DirectoryLock(directory, fileSystem: fileSystem)
        defer { lock.release() }
        guard try !RestoreStateStore.read(directory, fileSystem: fileSystem).active else { return }
        try RestoreStateStore.write(RestoreState(active: true), directory, fileSystem: fileSystem)
    }

    /// The manual's restoreStatus line. Call under `stateLock`.
    var restoreStatusLine: String {
        guard restoreState.active else { return "Restore is not active" }
        if restoreState.logsRefused != nil {
            return "Restore from backup complete (the backup was made in partial logging mode: no transaction logs can be restored); "
                + "commit the restore to use the repository"
        }
        let file = applied.eventID?.fileID ?? .first
        return "Restoring from transaction log files, restored to \(applied.time?.iso8601 ?? "the beginning"), "
            + "nextFileId = \(file.rawValue), record = \(applied.seqno.next) oldest fileId = \(file.rawValue)"
    }

    /// Replays tranlogs onto the restored state (the manual's restoreFromCurrentLogs /
    /// restoreFromArchiveLogs / restoreToEndOfLog: / restoreToPointInTime:). `sources` are log
    /// directories (default: the node's own `tranlogs/`), read together in fileId order, plain or
    /// `.gz`. Every check of the reader and of `LogReplay` applies; on an error, what was applied
    /// before it is kept (checkpointed) and the same call resumes from there once the missing or
    /// damaged file is supplied. `dryRun` reports what would be applied and changes nothing.
    public func restoreLogs(from sources: [FilePath]? = nil, to target: RestoreTarget = .endOfLogs, dryRun: Bool = false) throws(RepositoryError) -> LogRestoreReport {
        let logs = try tranlogCall { () throws(TranlogError) in try TranlogDirectory.scan(sources ?? [directory.tranlogs], fileSystem: fileSystem) }
        return try restoreLogs(logs, to: target, dryRun: dryRun)
    }

    /// `restoreLogs` over exactly these files (a warm standby passes the unbroken run of its archive
    /// from the file holding its position, so a file not archived yet is waited for, not an error).
    /// `seen` is the highest fileId present beyond them (after a gap): the new epoch's first file must
    /// go above it too, as fileIds are never reused.
    public func restoreLogs(
        _ logs: TranlogDirectory, seen: FileID? = nil, to target: RestoreTarget = .endOfLogs, dryRun: Bool = false
    ) throws(RepositoryError) -> LogRestoreReport {
        guard restoreLock.try() else { throw .busy("another restore operation is in progress") }
        defer { restoreLock.unlock() }
        let (state, start) = stateLock.withLock { (restoreState, LogReplay(table: visible, applied: applied, history: history)) }
        guard state.active else { throw .restoreNotActive }
        try refuseDuringBackupSwitch(state)
        if let reason = state.logsRefused { throw .logsRefused(reason) }
        var run = LogRestoreRun(replay: start, target: target)
        let failure: RepositoryError?
        do { try run.read(logs, repositoryID: config.repositoryID, fileSystem: fileSystem) ; failure = nil } catch { failure = error }
        if dryRun {
            if let failure { throw failure }
            return run.report(dryRun: true)
        }
        // What this pass saw is durable before what it applied: a crash between the two must not
        // leave the restore advanced with the new epoch free to take a fileId the logs hold. The
        // marks only grow, so one written for a pass a crash then undid numbers higher, no worse.
        var newState = state
        newState.highestFileIDSeen = max(state.highestFileIDSeen ?? .init(0), logs.files.last?.fileID ?? .init(0), seen ?? .init(0))
        newState.highestEpochSeen = max(state.highestEpochSeen ?? .none, run.highestEpochSeen)
        newState.lastLogRestoreReachedEnd = false
        if run.replay.records > 0, newState != state { try RestoreStateStore.write(newState, directory, fileSystem: fileSystem) }
        try keep(run.replay)
        newState.lastLogRestoreReachedEnd = failure == nil && !run.stoppedByTarget
        try RestoreStateStore.write(newState, directory, fileSystem: fileSystem)
        stateLock.withLock { restoreState = newState }
        if let failure { throw .restoreInterrupted(cause: failure.description, restoredTo: run.replay.applied) }
        let report = run.report(dryRun: false)
        logger.info("restore from transaction logs", metadata: ["records": "\(report.recordsApplied)", "restoredTo": "\(report.restoredTo)"])
        return report
    }

    /// Makes a replay's result the repository's state and checkpoints it, so a restart (restore mode
    /// survives it) finds the restore exactly where it stopped.
    private func keep(_ replay: LogReplay) throws(RepositoryError) {
        guard replay.records > 0 else { return }
        try persistHistory(of: replay)
        publishReplay(replay)
        try checkpoint()
    }
}

/// One `restore logs` pass: reads the logs from the file holding the position on, applying records
/// until the target, the end, or an error.
struct LogRestoreRun {
    var replay: LogReplay
    let target: RestoreTarget
    /// A delayed standby's apply horizon: records committed after it wait (`stoppedByTarget`).
    var horizon: Timestamp?
    var stoppedByTarget = false
    var files: [String] = []
    var commits = 0
    var firstSeqno: Seqno?
    var highestEpochSeen = Epoch.none
    /// Where the next continuous-restore step resumes: just past the record applied last.
    var resumePoint: ApplyResume?

    init(replay: LogReplay, target: RestoreTarget) {
        self.replay = replay
        self.target = target
    }

    mutating func read(_ logs: TranlogDirectory, repositoryID: RepositoryID, fileSystem: any TranlogFileSystem) throws(RepositoryError) {
        let startFile = replay.applied.eventID?.fileID ?? .first
        let candidates = logs.starting(at: startFile)
        guard !candidates.files.isEmpty else {
            throw .missingTranlog(
                needed: startFile, directory: logs.description,
                detail: logs.files.last.map { "the newest tranlog there is \($0.fileID.fileName)" } ?? "there are no tranlogs there")
        }
        let paths = Dictionary(uniqueKeysWithValues: candidates.files.map { ($0.fileID, $0.path.string) })
        var cursor = TranlogCursor(directory: candidates, fileSystem: fileSystem, expectedRepository: repositoryID)
        try readRecords(from: &cursor, paths: paths)
    }

    /// Starts at `fileID` when its header continues the applied record (seqno and CRC): the applied
    /// record was its predecessor's fileEnd, so nothing before it needs reading again. False, having
    /// read nothing, when the file is not there (plain) or does not chain: the caller then reads the
    /// full way, whose checks name any problem.
    mutating func readNextFile(_ fileID: FileID, in logs: TranlogDirectory, repositoryID: RepositoryID, fileSystem: any TranlogFileSystem)
        throws(RepositoryError) -> Bool
    {
        let candidates = logs.starting(at: fileID)
        guard let first = candidates.files.first, first.fileID == fileID, !first.isCompressed,
            let bytes = try? fileSystem.read(first.path, at: 0, count: FileHeader.size),
            case .success(let header) = FileHeader.decode(bytes[...]), header.repositoryID == repositoryID,
            header.previousLastSeqno == replay.applied.seqno, header.previousLastRecordCRC == replay.applied.recordCRC
        else { return false }
        var cursor = TranlogCursor(directory: candidates, fileSystem: fileSystem, expectedRepository: repositoryID)
        try readRecords(from: &cursor, paths: Dictionary(uniqueKeysWithValues: candidates.files.map { ($0.fileID, $0.path.string) }))
        return true
    }

    /// Continues where the last continuous-restore step stopped (`point`, just past the applied
    /// record), reading only the bytes its file gained since.
    mutating func resume(at point: TranlogResumePoint, fileSystem: any TranlogFileSystem) throws(RepositoryError) {
        var cursor: TranlogCursor
        do { cursor = try TranlogCursor(resuming: point, fileSystem: fileSystem) } catch { throw .tranlog(error) }
        try readRecords(from: &cursor, paths: [point.file.fileID: point.file.path.string])
    }

    private mutating func readRecords(from cursor: inout TranlogCursor, paths: [FileID: String]) throws(RepositoryError) {
        do {
            while let record = try cursor.next() {
                highestEpochSeen = max(highestEpochSeen, record.header.epoch)
                if record.seqno > replay.applied.seqno && (target.isBeyond(record) || isPastHorizon(record.header.time)) {
                    stoppedByTarget = true
                    return
                }
                try apply(record, from: paths[record.eventID.fileID] ?? record.eventID.fileID.fileName)
                if record.seqno == replay.applied.seqno {
                    resumePoint = record.header.kind == .fileEnd
                        ? .nextFile(record.eventID.fileID.next, lastSeqno: record.seqno, lastCRC: record.crc)
                        : cursor.resumePoint.map(ApplyResume.inFile)
                }
            }
        } catch let error as TranlogError {
            if case .forkInTime(_, _, let epoch, _, _, _) = error { highestEpochSeen = max(highestEpochSeen, epoch) }
            throw .tranlog(error)
        } catch let error as RepositoryError {
            throw error
        } catch {
            preconditionFailure("unexpected \(error)")
        }
    }

    /// Whether a record committed at `time` waits for a later step (past the horizon).
    func isPastHorizon(_ time: Timestamp) -> Bool { horizon.map { time > $0 } ?? false }

    mutating func apply(_ record: TranlogRecord, from file: String) throws(RepositoryError) {
        guard try replay.apply(record, from: file) else { return }
        tally(record.seqno, record.header.kind, from: file)
    }

    /// Counts a record just applied for the report.
    mutating func tally(_ seqno: Seqno, _ kind: RecordKind, from file: String) {
        firstSeqno = firstSeqno ?? seqno
        if files.last != file { files.append(file) }
        if kind == .commit { commits += 1 }
    }

    func report(dryRun: Bool) -> LogRestoreReport {
        let reached = !stoppedByTarget
        let summary = replay.records == 0
            ? "no records to apply after \(replay.applied)"
            : "\(counted(replay.records, "record")) (\(counted(commits, "commit")), seqno \(firstSeqno!) … \(replay.applied.seqno)) from \(counted(files.count, "file"))"
        let message = dryRun
            ? "Dry run: would apply \(summary), stopping at \(reached ? target.description : "a record beyond \(target)")."
            : "Restore from transaction log(s) succeeded: applied \(summary); restored to \(replay.applied)."
                + (reached ? "" : " Stopped at \(target); more records follow in the logs.")
        return LogRestoreReport(
            dryRun: dryRun, recordsApplied: replay.records, commitsApplied: commits, firstSeqno: firstSeqno,
            lastSeqno: replay.records > 0 ? replay.applied.seqno : nil, files: files, restoredTo: replay.applied,
            reachedEndOfLogs: reached, target: target.description, message: message)
    }
}

/// Where a standby's next continuous-restore step starts reading (`Repository.applyResume`).
enum ApplyResume: Hashable, Sendable {
    /// Just past the applied record, in its file, which may have grown since.
    case inFile(TranlogResumePoint)
    /// The applied record was its file's fileEnd: the next one opens file `FileID`, whose header
    /// must continue this seqno and CRC.
    case nextFile(FileID, lastSeqno: Seqno, lastCRC: UInt32)
}
