import Foundation
import Logging
import SystemPackage
import Tranlog

/// A node's repository: the object table, made durable by the tranlog and checkpointed into extents.
///
/// Commit path: validate → check preconditions against the *head* (every commit appended so far,
/// durable or not, so two commits in one group-commit batch still see each other) → append to the
/// tranlog → the flush thread's group fsync → publish the snapshot as *visible* (on the tranlog's
/// completion thread) → acknowledge.
/// Readers only ever see visible (durable) state, and an acknowledged commit is always visible.
/// If the tranlog fails, commits stop for good (until a restart replays what is durable); reads go on.
///
/// In **restore mode** (a state of the repository, kept in `restore.json` across restarts) there is
/// no writer: commits are refused, and the state changes only through restore operations (restore a
/// backup, replay logs) until commitRestore opens a new epoch and a writer for it.
public final class Repository: @unchecked Sendable {
    public let directory: DataDirectory
    public let configuration: RepositoryConfiguration
    /// What every file of the repository is read and written through; the node's other components
    /// use the same one.
    public let fileSystem: any TranlogFileSystem
    let logger: Logger
    private let directoryLock: DirectoryLock

    /// Serializes appends, so the head and the log agree on order; guards `writer` and `head`.
    let commitLock = NSLock()
    /// Nil in restore mode.
    var writer: TranlogWriter?
    var head: ObjectTable
    /// One restore operation (restore backup, restore logs, commitRestore) at a time.
    let restoreLock = NSLock()
    /// Where the next `applyLocalLogs` resumes reading the mirror (guarded by `restoreLock`).
    var applyResume: ApplyResume?

    private let configLock = NSLock()
    private var storedConfig: DataDirectoryConfig
    /// `understudy.json`. Restoring another repository's backup replaces it, hence the lock.
    public var config: DataDirectoryConfig {
        get { configLock.withLock { storedConfig } }
        set { configLock.withLock { storedConfig = newValue } }
    }

    /// Guards what readers and checkpoints see.
    let stateLock = NSLock()
    var visible: ObjectTable
    var applied: AppliedPosition
    /// Keys changed since the last checkpoint, with the seqno of each change.
    var dirty = ChangedKeys()
    var logBytesSinceCheckpoint = 0
    private var failure: String?
    var history: EpochHistory
    var restoreState: RestoreState

    /// One checkpoint at a time; guards `manifest`, `checkpointInProgress` and `suspendedUntil`.
    let checkpointLock = NSLock()
    var manifest: Manifest { didSet { publishCheckpointView() } }
    var checkpointInProgress = false { didSet { publishCheckpointView() } }
    var scheduler: CheckpointScheduler?
    /// Checkpoints are suspended until then (guarded by `checkpointLock`).
    var suspendedUntil: ContinuousClock.Instant? { didSet { publishCheckpointView() } }
    /// Those three as `status` reports them, copied under a lock of their own at every change: a
    /// checkpoint holds `checkpointLock` while it writes its run (most of a second under load), and
    /// status (monitoring, a standby's ack path) must not wait for it.
    private let checkpointViewLock = NSLock()
    private var checkpointView: CheckpointView
    /// Checkpoint pins held by copies (see `pinCheckpoint`; guarded by `checkpointLock`).
    var checkpointPins = 0
    /// A suspension is waiting for a checkpoint in progress (guarded by `stateLock`).
    var suspensionWaiting = false
    /// The full backup under way (guarded by `stateLock`).
    var backupInProgress: BackupProgress?
    /// The standbys whose tranlogs are kept (`standbys.json`).
    public let knownStandbys: KnownStandbys
    /// One tranlog removal (purge, partial logging) at a time.
    let retentionLock = NSLock()
    /// Known standbys whose expiry was logged (`expiredStandbys`), guarded by `expiredLock`.
    let expiredLock = NSLock()
    var expiredLogged: Set<String> = []
    /// How far the archiver got: files not archived yet are kept.
    public let archiveProgress: ArchiveProgress
    /// Serializes fencing: held while `fence.json` is written or removed (file I/O), and taken by a
    /// commit's completion before it is acknowledged; never taken with `stateLock` held, and never
    /// on a loop thread, which reads only `fenceState`.
    let fenceLock = NSLock()
    /// `fence.json` as read or last written, published once durable (see `Repository.fence`);
    /// guarded by `fenceStateLock`, which is never held across I/O.
    let fenceStateLock = NSLock()
    var fenceState: FenceState?
    /// The newest durable frames of this node's own log, kept by whichever writer is open (replication
    /// ships from it; it also tells when a batch became durable).
    public let recentFrames = RecentFrames()
    /// Where mirrored batches are decoded and hashed ahead of the applier (`WorkAhead`).
    let applyPreparation = DispatchQueue(label: "understudy.apply-preparation")
    /// Where applied batches and the tables a replay step replaced are freed, off the applier
    /// (`applyMirrored`, `publishReplay`).
    let appliedRelease = ReleaseQueue(label: "understudy.applied-release")

    /// Opens (recovers) a data directory: lock it, load the extents named by MANIFEST, then — unless
    /// the repository is in restore mode — repair a torn tranlog tail and replay every record after
    /// the checkpoint. In restore mode the repository stands exactly where its last restore left it.
    public init(
        directory: DataDirectory, configuration: RepositoryConfiguration = RepositoryConfiguration(),
        fileSystem: any TranlogFileSystem = PosixFileSystem(), logger: Logger = Logger(label: "understudy.repository")
    ) throws(RepositoryError) {
        if let problem = configuration.validate() { throw .invalidConfiguration(problem) }
        self.directory = directory
        self.configuration = configuration
        self.fileSystem = fileSystem
        self.logger = logger
        var config = try directory.readConfig(fileSystem: fileSystem)
        storedConfig = config
        directoryLock = try DirectoryLock(directory, fileSystem: fileSystem)
        do {
            archiveProgress = try ArchiveProgress(archiving: configuration.archivesTranlogs, directory: directory, fileSystem: fileSystem)
            restoreState = try RestoreStateStore.read(directory, fileSystem: fileSystem)
            if restoreState.backupSwitch != nil {
                logger.notice("completing the switch to a restored backup that a crash interrupted")
                restoreState = try Self.completeBackupSwitch(restoreState, directory: directory, fileSystem: fileSystem)
                config = try directory.readConfig(fileSystem: fileSystem)
                storedConfig = config
            }
            fenceState = try FenceStore.read(directory, fileSystem: fileSystem)
            try Self.completeInterruptedCommit(
                restoreState, directory: directory, config: config, configuration: configuration, fileSystem: fileSystem, logger: logger)
            knownStandbys = try KnownStandbys(directory: directory, fileSystem: fileSystem)
            let recovered = try Recovery.run(
                directory: directory, config: config, configuration: configuration, restoreMode: restoreState.active,
                fileSystem: fileSystem, logger: logger)
            writer = recovered.writer
            writer?.keepRecentFrames(in: recentFrames)
            manifest = recovered.manifest
            checkpointView = CheckpointView(manifest: recovered.manifest, inProgress: false, suspendedUntil: nil)
            head = recovered.replay.table
            visible = recovered.replay.table
            applied = recovered.replay.applied
            dirty = recovered.replay.dirty
            logBytesSinceCheckpoint = recovered.replay.bytes
            history = recovered.replay.history
        } catch {
            directoryLock.release()
            throw error
        }
        scheduler = CheckpointScheduler(repository: self, interval: configuration.checkpointInterval)
    }

    // MARK: - Reads (visible, durable state)

    public func get(_ key: [UInt8]) -> StoredObject? {
        stateLock.withLock { visible[key] }
    }

    /// A consistent snapshot and the position it reflects.
    public func snapshot() -> (table: ObjectTable, position: AppliedPosition) {
        stateLock.withLock { (visible, applied) }
    }

    /// The last applied record, under the state lock only (a standby's applier asks after every
    /// apply; `status` builds much more).
    public var appliedPosition: AppliedPosition {
        stateLock.withLock { applied }
    }

    /// What `status` reports of checkpoints (see `checkpointView`).
    private struct CheckpointView {
        var manifest: Manifest
        var inProgress: Bool
        var suspendedUntil: ContinuousClock.Instant?
    }

    /// MANIFEST as last switched, without waiting for a checkpoint in progress (which holds
    /// `checkpointLock` while it writes its run). A checkpoint may switch it again at any moment,
    /// only ever forward.
    var lastSwitchedManifest: Manifest {
        checkpointViewLock.withLock { checkpointView.manifest }
    }

    /// When checkpoints are suspended until, as last set, without waiting for a checkpoint in progress.
    var lastSetSuspension: ContinuousClock.Instant? {
        checkpointViewLock.withLock { checkpointView.suspendedUntil }
    }

    /// Called by the observers of the fields it copies, so under `checkpointLock`.
    private func publishCheckpointView() {
        let view = CheckpointView(manifest: manifest, inProgress: checkpointInProgress, suspendedUntil: suspendedUntil)
        checkpointViewLock.withLock { checkpointView = view }
    }

    /// The content digest of the visible state, at the applied seqno.
    public var digest: PositionedDigest {
        stateLock.withLock { PositionedDigest(seqno: applied.seqno, value: visible.digest) }
    }

    public var status: RepositoryStatus {
        let fence = fence
        let checkpoint = checkpointViewLock.withLock { checkpointView }
        return stateLock.withLock {
            RepositoryStatus(
                repositoryID: config.repositoryID, sourceID: config.sourceID, loggingMode: config.loggingMode,
                epoch: applied.epoch, applied: applied, objectCount: visible.count,
                digest: PositionedDigest(seqno: applied.seqno, value: visible.digest),
                checkpoint: CheckpointStatus(
                    position: checkpoint.manifest.checkpoint, manifestGeneration: checkpoint.manifest.generation,
                    runCount: checkpoint.manifest.runs.count, oldestFileIDNeeded: checkpoint.manifest.oldestFileIDNeeded,
                    logBytesSinceCheckpoint: logBytesSinceCheckpoint, inProgress: checkpoint.inProgress,
                    suspension: Self.suspensionStatus(until: checkpoint.suspendedUntil)),
                writesRefused: failure ?? (restoreState.active ? Self.restoreModeRefusal : fence.map { RepositoryError.fenced($0).description }),
                restoring: restoreState.active, restoreStatus: restoreStatusLine, backup: backupInProgress)
        }
    }

    // MARK: - Commits

    /// Commits a transaction; `completion` runs (on the tranlog's completion thread) once it is durable
    /// and visible, or with the reason it was refused. A fenced repository refuses it, also when the
    /// fence lands while it is being made durable.
    public func commit(_ transaction: Transaction, completion: @escaping @Sendable (Result<CommitOutcome, RepositoryError>) -> Void) {
        do throws(RepositoryError) {
            let body = RecordBody.commit(transaction.operations)
            if let problem = body.limitViolation { throw .invalidTransaction(problem) }
            // Encoding the record and its CRC is most of an append's work: done before the commit
            // lock, which serializes commits.
            let encoded = commitLock.withLock { writer?.sourceID }.map { RecordFrame.prepare(body, sourceID: $0) }
            try commitLock.locked { () throws(RepositoryError) in
                if let failure = stateLock.withLock({ failure }) { throw .stopped(failure) }
                guard writer != nil else { throw .readOnly(readOnlyReason) }
                if let fence { throw .fenced(fence) }
                try Self.check(transaction.preconditions, against: head)
                append(body, encoded: encoded, operations: transaction.operations) { result in completion(self.acknowledgeable(result)) }
            }
        } catch {
            completion(.failure(error))
        }
    }

    /// Commits and waits until durable.
    public func commit(_ transaction: Transaction) async throws(RepositoryError) -> CommitOutcome {
        let result = await withCheckedContinuation { continuation in
            commit(transaction) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    static let restoreModeRefusal =
        "repository is in restore mode: a standby accepts writes once promoted (`understudy promote`), a manual restore "
            + "(`understudy start --restore-mode`) once committed (`understudy restore commit`)"

    /// Why a repository without a writer refuses commits: restore mode, or a commit whose completion
    /// an error interrupted.
    private var readOnlyReason: String {
        guard let commit = promotion else { return Self.restoreModeRefusal }
        return "epoch \(commit.epoch) was committed (`\(commit.by)`) but opening it did not complete: run `understudy \(commit.by)` "
            + "again, or restart the node with `understudy start`, to complete it"
    }

    private static func check(_ preconditions: [Precondition], against table: ObjectTable) throws(RepositoryError) {
        for precondition in preconditions {
            let current = table[precondition.key]
            switch precondition.expectation {
            case .absent where current != nil:
                throw .conflict(key: precondition.key, expected: "no value", actual: "a value written at seqno \(current!.seqno)")
            case .writtenAt(let seqno) where current?.seqno != seqno:
                throw .conflict(
                    key: precondition.key, expected: "a value written at seqno \(seqno)",
                    actual: current.map { "a value written at seqno \($0.seqno)" } ?? "no value")
            default:
                continue
            }
        }
    }

    /// Appends a record (under `commitLock`, with a writer), advancing the head with its operations,
    /// and publishes it once durable. Every record goes through here, so the visible position counts
    /// all of them. `encoded` is the record encoded before the lock; it is encoded again here if it
    /// was for another source id (the writer was replaced meanwhile, by a promote).
    private func append(
        _ body: RecordBody, encoded: PreparedFrame? = nil, operations: [Tranlog.Operation],
        completion: @escaping @Sendable (Result<CommitOutcome, RepositoryError>) -> Void
    ) {
        let snapshot = SnapshotBox()
        guard let writer else {
            completion(.failure(.readOnly(Self.restoreModeRefusal)))
            return
        }
        writer.append(
            encoded.flatMap { $0.sourceID == writer.sourceID ? $0 : nil } ?? RecordFrame.prepare(body, sourceID: writer.sourceID),
            positioned: { record in
                self.head.apply(operations, seqno: record.seqno)
                snapshot.table = self.head
            },
            completion: { result in
                switch result {
                case .success(let record):
                    self.publish(snapshot.table!, record: record, changes: operations)
                    completion(.success(CommitOutcome(seqno: record.seqno, epoch: record.epoch, eventID: record.eventID)))
                case .failure(let error):
                    self.stop(because: error)
                    completion(.failure(.stopped(error.description)))
                }
            })
    }

    /// Appends a record that changes no object (checkpoint, shutdown, backup markers) and waits.
    func appendMarker(_ body: RecordBody) throws(RepositoryError) -> CommitOutcome {
        let done = DispatchSemaphore(value: 0)
        let box = OutcomeBox()
        commitLock.withLock {
            append(body, operations: []) { result in
                box.result = result
                done.signal()
            }
        }
        done.wait()
        return try box.result!.get()
    }

    private func publish(_ table: ObjectTable, record: AppendedRecord, changes: [Tranlog.Operation]) {
        let logBytes: Int = stateLock.withLock {
            visible = table
            applied = AppliedPosition(
                seqno: record.seqno, epoch: record.epoch, eventID: record.eventID, sourceID: configLock.withLock { storedConfig.sourceID },
                time: record.time, recordCRC: record.crc)
            for operation in changes { dirty.record(operation, at: record.seqno) }
            logBytesSinceCheckpoint += record.frameLength
            return logBytesSinceCheckpoint
        }
        if logBytes >= configuration.checkpointLogBytes { scheduler?.requestCheckpoint() }
    }

    private func stop(because error: TranlogError) {
        stateLock.withLock {
            if failure == nil {
                failure = error.description
                logger.critical("tranlog write failed; commits are refused until restart", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: - Shutdown

    /// Clean shutdown: stop checkpointing, take a final checkpoint, write a shutdown record (not in
    /// restore mode, which writes no records), close.
    public func close() throws(RepositoryError) {
        scheduler?.stop()
        defer { directoryLock.release() }
        let writer = commitLock.withLock { self.writer }
        var shutdownFailure: RepositoryError?
        if stateLock.withLock({ failure }) == nil {
            do {
                _ = try checkpoint(cleanShutdown: true)
                if writer != nil { _ = try appendMarker(.shutdown) }
            } catch {
                // The writer is closed all the same (its thread stopped, its file closed); the next
                // open recovers from what is durable.
                shutdownFailure = error
            }
        }
        do { try writer?.close() } catch { shutdownFailure = shutdownFailure ?? .tranlog(error) }
        if let shutdownFailure { throw shutdownFailure }
    }
}

private final class SnapshotBox: @unchecked Sendable {
    var table: ObjectTable?
}

private final class OutcomeBox: @unchecked Sendable {
    var result: Result<CommitOutcome, RepositoryError>?
}
