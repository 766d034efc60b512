import Logging
import Repository
import SystemPackage
import Tranlog
import Transport

/// `--archive-dir`: copies every completed tranlog into the archive directory, compressed and
/// atomically (`TranlogArchiver`), on a background queue: a commit never waits for it. A failed copy
/// is logged (once per distinct failure), shown in status and metrics, and retried at every pass;
/// until a file is archived neither partial logging nor a purge may remove it (`ArchiveProgress`). In restore mode
/// (a standby before its promotion) there is no file of this node's own to archive, so it idles.
final class ArchiveService: Sendable {
    private let archiver: TranlogArchiver
    private let repository: Repository
    private let metrics: NodeMetrics
    private let logger: Logger
    private let state: Locked<ArchiveStatus>
    private let firstPassDone = Locked(false)
    private let task: PeriodicTask

    init(directory: FilePath, interval: Duration, repository: Repository, metrics: NodeMetrics, logger: Logger) throws(NodeError) {
        archiver = TranlogArchiver(source: repository.directory.tranlogs, archive: directory, fileSystem: repository.fileSystem)
        self.repository = repository
        self.metrics = metrics
        self.logger = logger
        task = PeriodicTask(label: "understudy.archive", interval: interval)
        state = Locked(ArchiveStatus(
            directory: directory.string, lastArchivedFileID: nil, backlogFiles: 0, archivedFiles: 0, failures: 0,
            lastError: nil, lastErrorTime: nil, state: "idle"))
        do { try archiver.fileSystem.createDirectory(directory) } catch {
            throw .invalidConfiguration("the archive directory \(directory) cannot be created: \(error)")
        }
    }

    var status: ArchiveStatus { state.withLock { $0 } }

    func start() { task.start { [weak self] in self?.pass() } }

    /// Waits for a copy in progress: the repository can then close.
    func stop() { task.stop() }

    private func pass() {
        guard let open = repository.openTranlogFileID else { return state.withLock { $0.state = "idle" } }
        var current: FileID?
        do throws(TranlogError) {
            if !firstPassDone.withLock({ $0 }) {
                try archiver.removeLeftovers()
                firstPassDone.withLock { $0 = true }
            }
            var survey = try archiver.survey(openFileID: open)
            publish(survey)
            while let ref = survey.backlog.first {
                current = ref.fileID
                try archiver.archive(ref)
                logger.info("archived", metadata: ["file": "\(ref.fileID.fileName)", "archive.dir": "\(archiver.archive)"])
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
        let recovered = state.withLock { status in
            defer { status.lastError = nil }
            return status.lastError != nil
        }
        if recovered { logger.notice("archiving works again", metadata: ["archive.dir": "\(archiver.archive)"]) }
    }

    private func failed(_ fileID: FileID?, _ error: TranlogError) {
        let message = (fileID.map { "archiving \($0.fileName) into \(archiver.archive) failed: " } ?? "surveying \(archiver.archive) failed: ")
            + "\(error). Retried at every pass; completed tranlogs are kept until archived. Free space or fix permissions there."
        let (isNew, status) = state.withLock { status in
            defer {
                status.failures += 1
                status.lastError = message
                status.lastErrorTime = Timestamp.now()
            }
            return (status.lastError != message, status)
        }
        metrics.recordArchive(status, failed: true)
        if isNew { logger.error("archiving a tranlog failed", metadata: ["file": "\(fileID?.fileName ?? "-")", "error": "\(message)"]) }
    }
}
