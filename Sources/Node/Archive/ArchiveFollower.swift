import Logging
import Repository
import SystemPackage
import Tranlog
import Transport

/// A warm standby (`understudy standby --archive DIR` or `--restore-command CMD`): polls an archive of
/// completed tranlogs (`ArchiveReader`) and applies them with `restoreLogs` — every check of
/// `restore logs` — until promoted.
///
/// Each pass takes the unbroken run of files from the one holding the applied position: a file
/// missing from the sequence (not archived yet) is waited for, not an error. A file that cannot be
/// applied (corrupt, another repository's, another timeline's) stops applying at the record before
/// it — what was applied is kept, checkpointed — and is retried at every pass, so applying resumes
/// once the file is replaced. Passes and promote run on one queue, so they never race.
final class ArchiveFollower: Sendable {
    private let reader: ArchiveReader
    var archive: ArchiveLocation { reader.source }
    private let pollInterval: Duration
    private let repository: Repository
    private let logger: Logger
    private let task: PeriodicTask
    private let state: Locked<WarmStandbyStatus>

    init(source: ArchiveLocation, pollInterval: Duration, repository: Repository, logger: Logger) {
        reader = ArchiveReader(source, for: repository)
        self.pollInterval = pollInterval
        self.repository = repository
        self.logger = logger
        task = PeriodicTask(label: "understudy.warm-standby", interval: pollInterval)
        state = Locked(WarmStandbyStatus(
            archive: source.description, state: "waiting", waitingFor: nil, lastAppliedFile: nil,
            appliedSeqno: repository.appliedPosition.seqno, recordsApplied: 0, recordsPerSecond: nil, lastPollTime: nil,
            pollSeconds: pollInterval.inSeconds))
    }

    var status: WarmStandbyStatus { state.withLock { $0 } }

    func start() {
        logger.notice("warm standby: applying completed tranlogs from the archive", metadata: ["archive": "\(reader.source)"])
        task.start { [weak self] in self?.pass() }
    }

    /// Waits for a running pass, so the repository can close.
    func stop() { task.stop() }

    /// Applies everything the archive holds in sequence, then opens a new epoch. Refused while a
    /// file cannot be applied: promoting then would silently drop what follows it.
    func promote() throws(RepositoryError) -> PromoteReport {
        try task.sync { () -> Result<PromoteReport, RepositoryError> in Result { () throws(RepositoryError) in try promoteNow() } }.get()
    }

    private func promoteNow() throws(RepositoryError) -> PromoteReport {
        guard repository.isRestoring else { return try StandbyReplica.promoteNonStandby(repository) }
        var phase = PhaseTimer()
        let stopMilliseconds = phase.lap()
        if case .failed(let reason) = applyAvailable() {
            throw .notAllowed(
                "not promoted: \(reason). Replace that file with a good copy and promote again, or move it and every later "
                    + "file out of \(reader.source) to promote at \(repository.appliedPosition) (what follows it is then lost)")
        }
        let applyMilliseconds = phase.lap()
        let applied = repository.appliedPosition
        let committed = try repository.commitRestore(by: "promote")
        state.withLock { $0.state = "promoted" }
        logger.notice("promoted", metadata: ["epoch": "\(committed.epoch)", "seqno": "\(applied.seqno)", "archive": "\(reader.source)"])
        return PromoteReport(
            promoted: true, applied: applied, epoch: committed.epoch, primaryLastSeqno: nil, lostRecords: nil,
            milliseconds: .init(stopReceiver: stopMilliseconds, applyFlushed: applyMilliseconds, commitRestore: phase.lap()),
            message: "promoted: epoch \(committed.epoch) begins after seqno \(applied.seqno), the end of the archive's "
                + "unbroken run of tranlogs (\(status.waitingFor.map { "\($0) was not archived" } ?? "all applied"))")
    }

    private func pass() {
        guard repository.isRestoring else { return }
        _ = applyAvailable()
    }

    private enum Outcome {
        case applied
        case failed(String)
    }

    /// One pass: apply the unbroken run of archived files from the one holding the position.
    private func applyAvailable() -> Outcome {
        let began = ContinuousClock.now
        let start = repository.appliedPosition.eventID?.fileID ?? .first
        let available: [TranlogFileRef]
        do { available = try reader.files(from: start).files } catch {
            return fail("cannot read the archive \(reader.source): \(error)")
        }
        let run = Self.unbrokenRun(available, from: start)
        guard let last = run.last else { return wait(for: start) }
        state.withLock { status in
            let newFile = status.waitingFor.map { waited in run.contains { $0.fileID.fileName == waited } } ?? true
            if newFile && !status.state.hasPrefix("failed") { status.state = "applying" }
        }
        do {
            let report = try repository.restoreLogs(TranlogDirectory(description: reader.source.description, files: run), seen: available.last?.fileID)
            record(report, since: began)
            return wait(for: last.fileID.next)
        } catch {
            switch error {
            case .restoreInterrupted(let cause, let restoredTo):
                state.withLock { $0.appliedSeqno = restoredTo.seqno }
                return fail(cause)
            case .busy(let detail):
                logger.info("warm standby: pass skipped", metadata: ["reason": "\(detail)"])
                return .applied
            case .restoreNotActive:
                return .applied
            default:
                return fail(error.description)
            }
        }
    }

    /// Files `from`, `from`+1, … as long as none is missing.
    static func unbrokenRun(_ files: [TranlogFileRef], from start: FileID) -> [TranlogFileRef] {
        var expected = start
        var run: [TranlogFileRef] = []
        for file in files where file.fileID == expected {
            run.append(file)
            expected = expected.next
        }
        return run
    }

    private func record(_ report: LogRestoreReport, since began: ContinuousClock.Instant) {
        guard report.recordsApplied > 0 else { return }
        let seconds = (ContinuousClock.now - began).inSeconds
        state.withLock { status in
            status.lastAppliedFile = report.files.last ?? status.lastAppliedFile
            status.recordsApplied += report.recordsApplied
            status.recordsPerSecond = seconds > 0 ? Double(report.recordsApplied) / seconds : nil
        }
    }

    private func wait(for fileID: FileID) -> Outcome {
        let wasFailing = state.withLock { status in
            defer {
                status.state = "waiting"
                status.waitingFor = fileID.fileName
                status.appliedSeqno = repository.appliedPosition.seqno
                status.lastPollTime = Timestamp.now()
            }
            return status.state.hasPrefix("failed")
        }
        if wasFailing { logger.notice("warm standby: applying again", metadata: ["waitingFor": "\(fileID.fileName)"]) }
        return .applied
    }

    /// Shows and logs (once per distinct reason) why applying stopped.
    private func fail(_ reason: String) -> Outcome {
        let isNew = state.withLock { status in
            defer {
                status.state = "failed: \(reason)"
                status.waitingFor = nil
                status.lastPollTime = Timestamp.now()
            }
            return status.state != "failed: \(reason)"
        }
        if isNew { logger.error("warm standby: applying stopped; retried at every poll", metadata: ["error": "\(reason)"]) }
        return .failed(reason)
    }
}

extension ArchiveReader {
    /// A reader for this repository: a command's files are fetched into `DATA/archive-fetch/`.
    init(_ source: ArchiveLocation, for repository: Repository) {
        self.init(source: source, staging: repository.directory.root.appending("archive-fetch"), fileSystem: repository.fileSystem)
    }
}

extension Repository {
    /// `restore logs --restore-command`: the files the command delivers from the one holding the
    /// restored position on, replayed like any archive's.
    func restoreLogs(fetching command: ArchiveCommand, to target: RestoreTarget, dryRun: Bool) throws(RepositoryError) -> LogRestoreReport {
        let start = status.applied.eventID?.fileID ?? .first
        let logs: TranlogDirectory
        do { logs = try ArchiveReader(.command(command), for: self).files(from: start) } catch { throw .tranlog(error) }
        guard !logs.files.isEmpty else {
            throw .tranlog(.noLogs(directory: "what the restore command fetched (it did not deliver \(start.fileName))"))
        }
        return try restoreLogs(logs, to: target, dryRun: dryRun)
    }
}
