import Logging
import Repository
import SystemPackage
import Tranlog
import Transport

/// `--archive-dir` or `--archive-command`: archives every completed tranlog, in fileId order and one
/// at a time (`TranlogArchiver`), on a background queue: a commit never waits for it. A failure is
/// logged (once per distinct failure, and with the number of attempts once it recovers), shown in
/// status and metrics, and retried after a delay that doubles from the pass interval up to
/// `maximumRetryDelay`; until a file is archived neither partial logging nor a purge may remove it
/// (`ArchiveProgress`). In restore mode (a standby before its promotion) there is no file of this
/// node's own to archive, so it idles.
final class ArchiveService: Sendable {
    /// The longest wait between two attempts while failing: an archive store back after an outage
    /// is used again within this time.
    static let maximumRetryDelay: Duration = .seconds(16)

    private let archiver: TranlogArchiver
    private let repository: Repository
    private let metrics: NodeMetrics
    private let logger: Logger
    private let interval: Duration
    private let state: Locked<ArchiveStatus>
    private let firstPassDone = Locked(false)
    /// While failing: the failed attempts in a row, and no attempt before the instant.
    private let retry = Locked<(failures: Int, at: ContinuousClock.Instant)?>(nil)
    private let task: PeriodicTask

    init(destination: ArchiveLocation, interval: Duration, repository: Repository, metrics: NodeMetrics, logger: Logger) throws(NodeError) {
        archiver = TranlogArchiver(source: repository.directory.tranlogs, destination: destination, fileSystem: repository.fileSystem)
        self.repository = repository
        self.metrics = metrics
        self.logger = logger
        self.interval = interval
        task = PeriodicTask(label: "understudy.archive", interval: interval)
        var status = ArchiveStatus(
            directory: nil, command: nil, lastArchivedFileID: nil, backlogFiles: 0, archivedFiles: 0, failures: 0,
            lastError: nil, lastErrorTime: nil, failingSince: nil, state: "idle")
        switch destination {
        case .directory(let directory):
            status.directory = directory.string
            do { try archiver.fileSystem.createDirectory(directory) } catch {
                throw .invalidConfiguration("the archive directory \(directory) cannot be created: \(error)")
            }
        case .command(let command):
            status.command = command.template
        }
        state = Locked(status)
    }

    var status: ArchiveStatus { state.withLock { $0 } }

    func start() { task.start { [weak self] in self?.pass() } }

    /// Waits for a copy in progress: the repository can then close.
    func stop() { task.stop() }

    private func pass() {
        guard let open = repository.openTranlogFileID else { return state.withLock { $0.state = "idle" } }
        if let retry = retry.withLock({ $0 }), ContinuousClock.now < retry.at { return }
        var current: FileID?
        do throws(TranlogError) {
            if !firstPassDone.withLock({ $0 }) {
                try archiver.removeLeftovers()
                firstPassDone.withLock { $0 = true }
            }
            var survey = try archiver.survey(openFileID: open, recorded: repository.archiveProgress.needsFrom ?? .first)
            publish(survey)
            while let ref = survey.backlog.first {
                current = ref.fileID
                try archiver.archive(ref)
                logger.info("archived", metadata: ["file": "\(ref.fileID.fileName)", "archive": "\(archiver.destination)"])
                survey.backlog.removeFirst()
                survey.newestArchived = max(survey.newestArchived ?? ref.fileID, ref.fileID)
                survey.firstUnarchived = survey.backlog.first?.fileID ?? max(survey.firstUnarchived, ref.fileID.next)
                state.withLock { $0.archivedFiles += 1 }
                publish(survey)
            }
            succeeded()
        } catch {
            failed(current, error)
        }
    }

    /// Shows the survey, and lets partial logging and purges remove what is archived.
    private func publish(_ survey: ArchiveSurvey) {
        do { try repository.archiveProgress.archived(below: survey.firstUnarchived) } catch {
            logger.error("recording archive progress failed: purges keep the files archived since", metadata: ["error": "\(error)"])
        }
        let status = state.withLock { status in
            status.state = "archiving"
            status.backlogFiles = survey.backlog.count
            status.lastArchivedFileID = survey.newestArchived
            return status
        }
        metrics.recordArchive(status)
    }

    private func succeeded() {
        let attempts = retry.withLock { retry in
            defer { retry = nil }
            return retry?.failures ?? 0
        }
        let failingSince = state.withLock { status in
            defer {
                status.lastError = nil
                status.failingSince = nil
            }
            return status.failingSince
        }
        guard let since = failingSince else { return }
        logger.notice("archiving works again", metadata: [
            "archive": "\(archiver.destination)", "failingSince": "\(since)", "failedAttempts": "\(attempts)",
        ])
    }

    private func failed(_ fileID: FileID?, _ error: TranlogError) {
        let message = (fileID.map { "archiving \($0.fileName) failed: " } ?? "surveying the tranlogs to archive failed: ")
            + "\(error). Retried with a growing delay; completed tranlogs are kept until archived."
        let now = Timestamp.now()
        let (isNew, status) = state.withLock { status in
            let isNew = status.lastError != message
            status.failures += 1
            status.lastError = message
            status.lastErrorTime = now
            status.failingSince = status.failingSince ?? now
            return (isNew, status)
        }
        let attempts = retry.withLock { retry in
            let failures = (retry?.failures ?? 0) + 1
            retry = (failures, ContinuousClock.now + Self.retryDelay(afterFailures: failures, interval: interval))
            return failures
        }
        metrics.recordArchive(status, failed: true)
        if isNew {
            logger.error("archiving a tranlog failed", metadata: [
                "file": "\(fileID?.fileName ?? "-")", "error": "\(message)", "failedAttempts": "\(attempts)",
            ])
        }
    }

    /// The pass interval after the first failure, doubled after each further one, at most `maximumRetryDelay`.
    static func retryDelay(afterFailures failures: Int, interval: Duration) -> Duration {
        var delay = interval
        for _ in 1..<max(failures, 1) where delay < maximumRetryDelay { delay *= 2 }
        return min(delay, maximumRetryDelay)
    }
}
