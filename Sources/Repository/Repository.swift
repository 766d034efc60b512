import Foundation
import Logging
import SystemPackage
import Tranlog

/// A node's repository: the object table, made durable by the tranlog and checkpointed into extents.
///
/// Commit path: validate → check preconditions against the *head* (every commit appended so far,
/// durable or not, so two commits in one group-commit batch still see each other) → append to the
/// tranlog → the flush thread's group fsync → publish the snapshot as *visible* → acknowledge.
/// Readers only ever see visible (durable) state, and an acknowledged commit is always visible.
/// If the tranlog fails, commits stop for good (until a restart replays what is durable); reads go on.
public final class Repository: @unchecked Sendable {
    public let directory: DataDirectory
    public let config: DataDirectoryConfig
    let configuration: RepositoryConfiguration
    let fileSystem: any TranlogFileSystem
    let logger: Logger
    private let directoryLock: DirectoryLock
    let writer: TranlogWriter

    /// Serializes appends, so the head and the log agree on order.
    private let commitLock = NSLock()
    private var head: ObjectTable

    /// Guards what readers and checkpoints see.
    let stateLock = NSLock()
    private(set) var visible: ObjectTable
    private(set) var applied: AppliedPosition
    /// Keys changed since the last checkpoint, with the seqno of their last change.
    var dirty: [[UInt8]: Seqno] = [:]
    var logBytesSinceCheckpoint = 0
    private var failure: String?
    private(set) var history: EpochHistory

    /// One checkpoint at a time; guards `manifest`.
    let checkpointLock = NSLock()
    var manifest: Manifest
    var checkpointInProgress = false
    var scheduler: CheckpointScheduler?

    /// Opens (recovers) a data directory: lock it, load the extents named by MANIFEST, repair a
    /// torn tranlog tail, and replay every record after the checkpoint.
    public init(
        directory: DataDirectory, configuration: RepositoryConfiguration = RepositoryConfiguration(),
        fileSystem: any TranlogFileSystem = PosixFileSystem(), logger: Logger = Logger(label: "understudy.repository")
    ) throws(RepositoryError) {
        if let problem = configuration.validate() { throw .invalidTransaction("invalid repository configuration: \(problem)") }
        self.directory = directory
        self.configuration = configuration
        self.fileSystem = fileSystem
        self.logger = logger
        config = try directory.readConfig(fileSystem: fileSystem)
        directoryLock = try DirectoryLock(directory, fileSystem: fileSystem)
        do {
            let recovered = try Recovery.run(directory: directory, config: config, configuration: configuration, fileSystem: fileSystem, logger: logger)
            writer = recovered.writer
            manifest = recovered.manifest
            head = recovered.table
            visible = recovered.table
            applied = recovered.applied
            dirty = recovered.dirty
            logBytesSinceCheckpoint = recovered.replayedBytes
            history = try EpochHistoryStore.read(directory.epochsFile, fileSystem: fileSystem)
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

    public var status: RepositoryStatus {
        let checkpoint = checkpointLock.withLock { (manifest, checkpointInProgress) }
        return stateLock.withLock {
            RepositoryStatus(
                repositoryID: config.repositoryID, sourceID: config.sourceID, loggingMode: config.loggingMode,
                epoch: applied.epoch, applied: applied, objectCount: visible.count,
                checkpoint: CheckpointStatus(
                    position: checkpoint.0.checkpoint, manifestGeneration: checkpoint.0.generation,
                    runCount: checkpoint.0.runs.count, oldestFileIDNeeded: checkpoint.0.oldestFileIDNeeded,
                    logBytesSinceCheckpoint: logBytesSinceCheckpoint, inProgress: checkpoint.1),
                writesRefused: failure)
        }
    }

    // MARK: - Commits

    /// Commits a transaction; `completion` runs (on the tranlog's flush thread) once it is durable
    /// and visible, or with the reason it was refused.
    public func commit(_ transaction: Transaction, completion: @escaping @Sendable (Result<CommitOutcome, RepositoryError>) -> Void) {
        do throws(RepositoryError) {
            let body = RecordBody.commit(transaction.operations)
            if let problem = body.limitViolation { throw .invalidTransaction(problem) }
            try commitLock.locked { () throws(RepositoryError) in
                if let failure = stateLock.withLock({ failure }) { throw .stopped(failure) }
                try Self.check(transaction.preconditions, against: head)
                append(body, operations: transaction.operations) { result in completion(result.mapError { $0 }) }
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

    /// Appends a record (under `commitLock`), advancing the head with its operations, and publishes
    /// it once durable. Every record goes through here, so the visible position counts all of them.
    private func append(
        _ body: RecordBody, operations: [Tranlog.Operation],
        completion: @escaping @Sendable (Result<CommitOutcome, RepositoryError>) -> Void
    ) {
        let snapshot = SnapshotBox()
        let keys = operations.map(\.key)
        writer.append(
            body,
            positioned: { record in
                self.head.apply(operations, seqno: record.seqno)
                snapshot.table = self.head
            },
            completion: { result in
                switch result {
                case .success(let record):
                    self.publish(snapshot.table!, record: record, changedKeys: keys)
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

    private func publish(_ table: ObjectTable, record: AppendedRecord, changedKeys: [[UInt8]]) {
        let logBytes: Int = stateLock.withLock {
            visible = table
            applied = AppliedPosition(seqno: record.seqno, epoch: record.epoch, eventID: record.eventID, time: record.time, sourceID: config.sourceID)
            for key in changedKeys { dirty[key] = record.seqno }
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

    /// Clean shutdown: stop checkpointing, take a final checkpoint, write a shutdown record, close.
    public func close() throws(RepositoryError) {
        scheduler?.stop()
        defer { directoryLock.release() }
        if stateLock.withLock({ failure }) == nil {
            _ = try checkpoint(cleanShutdown: true)
            _ = try appendMarker(.shutdown)
        }
        do { try writer.close() } catch { throw .tranlog(error) }
    }
}

private final class SnapshotBox: @unchecked Sendable {
    var table: ObjectTable?
}

private final class OutcomeBox: @unchecked Sendable {
    var result: Result<CommitOutcome, RepositoryError>?
}
