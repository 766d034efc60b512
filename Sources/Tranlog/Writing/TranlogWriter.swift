import Foundation
import Synchronization
import SystemPackage

/// Appends records to a tranlog directory with group commit.
///
/// `append` assigns the record its seqno, CRC chain and event id at once (so the order of appends is
/// the order in the log) and queues its bytes. A dedicated flush thread writes everything queued and
/// calls `fdatasync` once for the whole batch; only after that sync returns are the batch's callers
/// told their records are durable, on a completion thread of its own, so the next batch's sync does
/// not wait for them. While one sync runs, new appends gather into the next batch.
///
/// A failed write or sync is fatal: every record not yet acknowledged fails with `writerFailed`,
/// and so does every later append. Nothing is retried, because a retried fsync can report success
/// for data the kernel already dropped.
public final class TranlogWriter: @unchecked Sendable {
    public typealias Completion = @Sendable (Result<AppendedRecord, TranlogError>) -> Void

    fileprivate enum Pending {
        case write([UInt8], completion: Completion?, record: AppendedRecord, header: FrameHeader)
        case rotate(to: FileID, header: [UInt8])
    }

    private let configuration: TranlogWriterConfiguration
    private let fileSystem: any TranlogFileSystem
    private let condition = NSCondition()
    private let flusherDone = DispatchSemaphore(value: 0)
    private let completions = CompletionQueue()

    // Guarded by `condition`.
    private var chain: ChainState
    private var pending: [Pending] = []
    /// What the flush thread acts on (records queued, the close), counted where it is changed under
    /// the lock and read without it: the flush thread polls it (`pollForWork`).
    private let workCount = Atomic<Int>(0)
    /// The flush thread's own: `workCount` when it last took the queue.
    private var takenCount = 0
    /// Batches the flush thread found while polling rather than after a wake-up.
    private var foundPolling = 0
    private var failure: TranlogError?
    private var closing = false
    private var durableSeqno: Seqno
    private var syncs = 0
    /// Where each durable batch is also kept in memory, for shipping (`keepRecentFrames`).
    private var recentFrames: RecentFrames?

    // Owned by the flush thread (and by `init` before it starts).
    private var file: any AppendableFile

    /// Prepares the next file when `preallocatesSegments` is on.
    private let preallocator: SegmentPreallocator?
    /// The file whose preparation was asked for (guarded by `condition`).
    private var preallocationRequested: FileID?
    /// Appends to the current file while it grows, i.e. is not a prepared one (guarded by
    /// `condition`); nil once the writer is in a prepared file.
    private var appendsToGrowingFile: Int?

    /// The torn tail cut off when the writer opened, if there was one.
    public let repairedTornTail: TornTail?


    /// Opens the directory's newest file for appending, repairing a torn tail. An empty directory is
    /// started at `start` (nil: an empty directory is an error).
    public convenience init(
        configuration: TranlogWriterConfiguration, fileSystem: any TranlogFileSystem = PosixFileSystem(),
        startIfEmpty start: ChainStart? = nil
    ) throws(TranlogError) {
        if let problem = configuration.validate() { throw .invalidConfiguration("invalid writer configuration: \(problem)") }
        let resumed = try WriterRecovery.resume(configuration, fileSystem: fileSystem)
        if let resumed, let file = try WriterRecovery.openNewest(resumed, configuration: configuration, fileSystem: fileSystem) {
            self.init(
                configuration: configuration, fileSystem: fileSystem, chain: resumed.chain, file: file, grows: !resumed.hasZeroTail,
                repaired: resumed.repaired)
            return
        }
        let next: ChainStart
        if let resumed {
            next = ChainStart(
                fileID: resumed.chain.fileID.next, epoch: resumed.chain.epoch, previousLastSeqno: resumed.chain.lastSeqno,
                previousLastRecordCRC: resumed.chain.lastCRC)
        } else if let start {
            next = start
        } else {
            throw .noLogs(directory: configuration.directory.string)
        }
        let file = try Self.createFile(next.fileID, header: Self.header(for: next, configuration), configuration: configuration, fileSystem: fileSystem)
        self.init(
            configuration: configuration, fileSystem: fileSystem, chain: ChainState(startingFile: next), file: file, grows: true,
            repaired: resumed?.repaired)
    }

    /// `grows`: `file` has no zero tail, so each sync in it also records a new file size.
    private init(
        configuration: TranlogWriterConfiguration, fileSystem: any TranlogFileSystem, chain: ChainState, file: any AppendableFile,
        grows: Bool, repaired: TornTail?
    ) {
        self.configuration = configuration
        self.fileSystem = fileSystem
        self.chain = chain
        self.file = file
        repairedTornTail = repaired
        durableSeqno = chain.lastSeqno
        preallocator = configuration.preallocatesSegments
            ? SegmentPreallocator(directory: configuration.directory, segmentBytes: configuration.rotationBytes, fileSystem: fileSystem)
            : nil
        appendsToGrowingFile = preallocator != nil && grows ? 0 : nil
        // The thread holds the writer until `close()` ends its loop: a writer dropped without a
        // close (its owner failed halfway) then leaks a waiting thread instead of the thread
        // touching a freed writer, which crashed the test process.
        Thread.start(named: "tranlog-flush") { self.flushLoop() }
    }

    /// Opens a new epoch (commitRestore, promote): creates file `start.fileID` with a header of epoch
    /// `start.epoch` chained to the restore point (`start.previousLastSeqno` and its CRC), and writes
    /// the epochBegin record (child of `parent`) as its first record. `start.fileID` must be above
    /// every file in the directory: fileIds are never reused, so two timelines never share a file
    /// name. Returns the writer, open for appends in the new epoch, and the durable epochBegin record.
    /// `time` stamps the file header and the epochBegin record (default: the clock), so a commit
    /// decided earlier writes the same record however often it is redone.
    public static func beginningEpoch(
        _ start: ChainStart, parent: Epoch, time: Timestamp? = nil, configuration: TranlogWriterConfiguration,
        fileSystem: any TranlogFileSystem = PosixFileSystem()
    ) throws(TranlogError) -> (writer: TranlogWriter, epochBegin: AppendedRecord) {
        if let problem = configuration.validate() { throw .invalidConfiguration("invalid writer configuration: \(problem)") }
        guard start.epoch > parent else { throw .invalidConfiguration("epoch \(start.epoch) is not after its parent epoch \(parent)") }
        try SegmentPreallocator.removeLeftovers(in: configuration.directory, fileSystem: fileSystem)
        if let newest = try TranlogDirectory.scan(configuration.directory, fileSystem: fileSystem).files.last, newest.fileID >= start.fileID {
            throw .invalidConfiguration("a new epoch must start above \(newest.fileID.fileName), the newest file in \(configuration.directory)")
        }
        try ZeroTail.cutNewest(in: configuration.directory, repositoryID: configuration.repositoryID, fileSystem: fileSystem)
        let file = try createFile(
            start.fileID, header: header(for: start, configuration, time: time), configuration: configuration, fileSystem: fileSystem)
        let writer = TranlogWriter(
            configuration: configuration, fileSystem: fileSystem, chain: ChainState(startingFile: start), file: file, grows: true, repaired: nil)
        let begin = EpochBeginInfo(epoch: start.epoch, parentEpoch: parent, forkSeqno: start.previousLastSeqno)
        do throws(TranlogError) {
            let record = try writer.waitForDurable { completion in
                let frame = RecordFrame.prepare(.epochBegin(begin), sourceID: writer.sourceID)
                writer.condition.locked { _ = writer.enqueue(frame, time: time, completion: completion) }
                writer.wakeFlushThread()
            }
            return (writer, record)
        } catch {
            try? writer.close()
            throw error
        }
    }

    /// The last seqno written (durable or not) and the position the next append continues.
    public var lastSeqno: Seqno { condition.locked { chain.lastSeqno } }
    /// The last seqno whose record is durable.
    public var lastDurableSeqno: Seqno { condition.locked { durableSeqno } }
    public var currentEpoch: Epoch { condition.locked { chain.epoch } }
    public var currentFileID: FileID { condition.locked { chain.fileID } }
    /// `fdatasync` calls the flush thread made for records (group commit: records ÷ syncs is the
    /// batch size; exposed for metrics and benchmarks).
    public var syncCount: Int { condition.locked { syncs } }

    /// From the next batch on, hands every durable frame to `buffer` (emptied first: what it held
    /// came from another writer).
    public func keepRecentFrames(in buffer: RecentFrames) {
        condition.locked {
            // With nothing waiting for a sync, the end of the file is durable: a copy may cut there.
            buffer.reset(durableEnd: chain.lastSeqno == durableSeqno ? EventID(fileID: chain.fileID, offset: chain.fileSize) : nil)
            recentFrames = buffer
        }
    }

    /// The source id stamped on every record (fixed for the writer's life).
    public var sourceID: SourceID { configuration.sourceID }

    /// Queues a record and returns the position it was given (nil if it was refused, in which case
    /// `completion` has already been called with the reason). `positioned`, if given, runs under the
    /// writer's lock as soon as the record has its seqno, before the flush thread can see it, so
    /// callers can stamp their own state with the seqno without racing the completion. `completion`
    /// runs on the writer's completion thread once the record is durable, or failed; completions
    /// run in seqno order.
    @discardableResult
    public func append(
        _ body: RecordBody, positioned: ((AppendedRecord) -> Void)? = nil, completion: @escaping Completion
    ) -> AppendedRecord? {
        if let problem = body.limitViolation {
            completion(.failure(.recordOverLimits(problem)))
            return nil
        }
        return append(RecordFrame.prepare(body, sourceID: sourceID), positioned: positioned, completion: completion)
    }

    /// `append` of a record already encoded (`RecordFrame.prepare` with this writer's `sourceID`), so
    /// a caller can encode it before taking its own locks: under the writer's lock only its position
    /// (seqno, epoch, time, previous CRC) is filled in and the CRC combined.
    @discardableResult
    public func append(
        _ frame: PreparedFrame, positioned: ((AppendedRecord) -> Void)? = nil, completion: @escaping Completion
    ) -> AppendedRecord? {
        do throws(TranlogError) {
            guard frame.kind != .fileEnd, frame.kind != .epochBegin else {
                throw .recordOverLimits("\(frame.kind) records are written by the writer itself (rotation, beginEpoch)")
            }
            let record = try condition.locked { () throws(TranlogError) in
                try checkAccepting()
                rotateIfFull(adding: frame.length)
                leaveGrowingFileIfPrepared()
                return enqueue(frame, positioned: positioned, completion: completion)
            }
            wakeFlushThread()
            return record
        } catch {
            completion(.failure(error))
            return nil
        }
    }

    /// Appends a record and waits until it is durable.
    public func append(_ body: RecordBody) async throws(TranlogError) -> AppendedRecord {
        let result = await withCheckedContinuation { continuation in
            append(body) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Appends a record and blocks the calling thread until it is durable.
    public func appendAndWait(_ body: RecordBody) throws(TranlogError) -> AppendedRecord {
        try waitForDurable { completion in append(body, completion: completion) }
    }

    /// Starts an append with a completion and blocks until the completion runs.
    private func waitForDurable(_ start: (@escaping Completion) -> Void) throws(TranlogError) -> AppendedRecord {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        start { result in
            box.result = result
            done.signal()
        }
        done.wait()
        return try box.result!.get()
    }

    /// Flushes everything queued, stops the flush thread and closes the file. Appends after this fail.
    public func close() throws(TranlogError) {
        let alreadyClosing = condition.locked {
            defer { closing = true }
            workCount.add(1, ordering: .relaxed)
            condition.broadcast()
            return closing
        }
        guard !alreadyClosing else { return }
        flusherDone.wait()
        completions.close()
        preallocator?.close()
        try file.close()
        if let failure = condition.locked({ failure }) { throw failure }
    }

    // MARK: - Under the lock

    private func checkAccepting() throws(TranlogError) {
        if let failure { throw .writerFailed(failure.description) }
        if closing { throw .writerClosed }
    }

    private func rotateIfFull(adding frameLength: Int) {
        let fileEndLength = RecordFrame.encodedLength(.fileEnd, sourceID: configuration.sourceID)
        let projected = chain.fileSize + UInt64(frameLength + fileEndLength)
        if chain.recordsInFile > 0 && projected > UInt64(configuration.rotationBytes) {
            rotate()
        }
    }

    /// In a growing file: asks for its successor once `leavesGrowingFileAfter` appends went in, and
    /// rotates into it as soon as it is prepared (never waiting for it: until then the growing file
    /// takes the appends, as it would with no preparation at all).
    private func leaveGrowingFileIfPrepared() {
        guard let appends = appendsToGrowingFile, let preallocator else { return }
        let next = chain.fileID.next
        if appends < configuration.leavesGrowingFileAfter {
            appendsToGrowingFile = appends + 1
        } else if preallocationRequested != next {
            preallocationRequested = next
            preallocator.request(next)
        } else if chain.recordsInFile > 0, preallocator.isPrepared(next) {
            rotate()
        }
    }

    /// Ends the current file with a fileEnd record and queues the creation of the next one.
    private func rotate() {
        enqueue(RecordFrame.prepare(.fileEnd, sourceID: sourceID), completion: nil)
        let next = ChainStart(fileID: chain.fileID.next, epoch: chain.epoch, previousLastSeqno: chain.lastSeqno, previousLastRecordCRC: chain.lastCRC)
        pending.append(.rotate(to: next.fileID, header: Self.header(for: next, configuration)))
        chain = ChainState(startingFile: next)
        // The next file is a prepared one whenever the writer prepares files.
        appendsToGrowingFile = nil
    }

    @discardableResult
    private func enqueue(
        _ frame: PreparedFrame, time: Timestamp? = nil, positioned: ((AppendedRecord) -> Void)? = nil, completion: Completion?
    ) -> AppendedRecord {
        let header = RecordHeader(
            kind: frame.kind, seqno: chain.lastSeqno.next, epoch: chain.epoch, time: time ?? configuration.clock(),
            sourceID: configuration.sourceID, previousCRC: chain.lastCRC)
        var frame = frame
        let crc = frame.place(header)
        let bytes = frame.bytes
        let record = AppendedRecord(
            seqno: header.seqno, epoch: header.epoch, eventID: EventID(fileID: chain.fileID, offset: chain.fileSize),
            time: header.time, crc: crc, frameLength: bytes.count)
        chain.fileSize += UInt64(bytes.count)
        chain.recordsInFile += 1
        chain.lastSeqno = header.seqno
        chain.lastCRC = crc
        requestPreallocationIfHalfFull()
        positioned?(record)
        pending.append(.write(bytes, completion: completion, record: record, header: Self.frameHeader(header, crc: crc, bytes: bytes)))
        workCount.add(1, ordering: .relaxed)
        return record
    }

    /// The header fields of a frame this writer just made, without reading them back, except for an
    /// epochBegin (once per epoch), whose payload is part of them.
    private static func frameHeader(_ header: RecordHeader, crc: UInt32, bytes: [UInt8]) -> FrameHeader {
        guard header.kind != .epochBegin else {
            guard case .header(let read) = RecordFrame.readHeader(bytes[...]) else { preconditionFailure("the writer made an unreadable epochBegin") }
            return read
        }
        return FrameHeader(
            length: bytes.count, kind: header.kind, seqno: header.seqno, epoch: header.epoch, time: header.time,
            previousCRC: header.previousCRC, crc: crc, sourceLength: header.sourceID.name.utf8.count, epochBegin: nil)
    }

    /// Asks for the next file once the current one is half full: early enough that it is ready at
    /// rotation, late enough that a writer opened and closed without filling a file (tests, short
    /// runs) never writes one.
    private func requestPreallocationIfHalfFull() {
        guard let preallocator, preallocationRequested != chain.fileID.next,
            chain.fileSize * 2 > UInt64(configuration.rotationBytes)
        else { return }
        preallocationRequested = chain.fileID.next
        preallocator.request(chain.fileID.next)
    }

    // MARK: - The flush thread

    /// After queueing, with the lock released: a thread woken while the waker still holds the lock
    /// would only block on it again, one more sleep and wake-up in every lone commit's latency.
    /// The flush thread checks `pending` under the lock before it waits, so no wake-up is lost.
    private func wakeFlushThread() {
        condition.signal()
    }

    private func flushLoop() {
        while let (batch, recentFrames) = nextBatch() {
            do throws(TranlogError) {
                try write(batch)
                let lastRecord = batch.lastRecord
                let rotations = batch.rotationCount
                condition.locked {
                    if let lastRecord { durableSeqno = lastRecord.seqno }
                    syncs += 1 + rotations
                }
                // Shipped from memory before the commits are even acknowledged: the standby's
                // round trip starts as soon as the primary's own sync ends.
                recentFrames?.appendDurable(batch.durableInputs)
                completions.hand { batch.complete(with: nil) }
            } catch {
                let abandoned = condition.locked {
                    failure = error
                    defer { pending = [] }
                    return pending
                }
                completions.hand {
                    batch.complete(with: error)
                    abandoned.complete(with: error)
                }
            }
        }
        flusherDone.signal()
    }

    /// Waits for queued records; nil once closing with nothing left (or after a failure).
    private func nextBatch() -> ([Pending], RecentFrames?)? {
        let found = pollForWork()
        return condition.locked {
            if found && !pending.isEmpty { foundPolling += 1 }
            while pending.isEmpty && !closing && failure == nil { condition.wait() }
            guard !pending.isEmpty, failure == nil else { return nil }
            takenCount = workCount.load(ordering: .relaxed)
            defer { pending = [] }
            return (pending, recentFrames)
        }
    }

    /// Batches the flush thread found while polling (`pollBudget`) rather than after a wake-up; for tests.
    var batchesFoundPolling: Int { condition.locked { foundPolling } }

    /// Before sleeping, waits up to `pollBudget` for work since the last batch was taken (a record,
    /// the close), without the lock and yielding the vCPU each turn to any thread that wants it. A
    /// lone client's next commit comes a few tens of µs after its answer; a flush thread asleep by
    /// then pays a wake-up on a halted vCPU (tens of µs on a virtual machine) before its write can
    /// start. Whether work came in time.
    private func pollForWork() -> Bool {
        guard configuration.pollBudget > .zero else { return false }
        let end = ContinuousClock.now + configuration.pollBudget
        while workCount.load(ordering: .relaxed) == takenCount {
            guard ContinuousClock.now < end else { return false }
            sched_yield()
        }
        return true
    }

    /// Writes a batch with as few system calls as possible, syncing at each rotation and at the end.
    private func write(_ batch: [Pending]) throws(TranlogError) {
        var buffer: [UInt8] = []
        for item in batch {
            switch item {
            case .write(let bytes, _, _, _):
                buffer.append(contentsOf: bytes)
            case .rotate(let fileID, let header):
                try file.append(buffer[...])
                // A completed file ends at its data: cut the zero tail of a preallocated file, in the
                // same sync and before the next file exists (FORMATS: only the newest file has one).
                try file.truncate(to: file.size)
                try file.sync()
                try file.close()
                buffer.removeAll(keepingCapacity: true)
                file = try openRotated(fileID, header: header)
            }
        }
        try file.append(buffer[...])
        try file.sync()
    }

    // MARK: - Files

    /// The file a rotation continues in: the prepared one when preallocating, its header written and
    /// synced before it is renamed to its log name (a crash before the rename leaves only a
    /// `.preallocated` file, removed at the next open), else a new file.
    private func openRotated(_ fileID: FileID, header: [UInt8]) throws(TranlogError) -> any AppendableFile {
        guard let preallocator else { return try Self.createFile(fileID, header: header, configuration: configuration, fileSystem: fileSystem) }
        let prepared = try preallocator.take(fileID)
        let file = try fileSystem.openForOverwrite(prepared, at: 0)
        try file.append(header[...])
        try file.sync()
        try fileSystem.rename(prepared, to: configuration.directory.appending(fileID.fileName))
        try fileSystem.syncDirectory(configuration.directory)
        return file
    }

    private static func header(for start: ChainStart, _ configuration: TranlogWriterConfiguration, time: Timestamp? = nil) -> [UInt8] {
        FileHeader(
            repositoryID: configuration.repositoryID, fileID: start.fileID, epoch: start.epoch,
            creationTime: time ?? configuration.clock(), previousLastSeqno: start.previousLastSeqno,
            previousLastRecordCRC: start.previousLastRecordCRC
        ).encode()
    }

    /// Creates a file with its header, durably (file and directory entry) before any record goes in.
    private static func createFile(
        _ fileID: FileID, header: [UInt8], configuration: TranlogWriterConfiguration, fileSystem: any TranlogFileSystem
    ) throws(TranlogError) -> any AppendableFile {
        let file = try fileSystem.createFile(configuration.directory.appending(fileID.fileName))
        try file.append(header[...])
        try file.sync()
        try fileSystem.syncDirectory(configuration.directory)
        return file
    }
}

private final class ResultBox: @unchecked Sendable {
    var result: Result<AppendedRecord, TranlogError>?
}

extension [TranlogWriter.Pending] {
    fileprivate var rotationCount: Int {
        reduce(0) { count, item in if case .rotate = item { count + 1 } else { count } }
    }

    fileprivate var lastRecord: AppendedRecord? {
        for item in reversed() { if case .write(_, _, let record, _) = item { return record } }
        return nil
    }

    /// The batch as `RecentFrames` keeps it.
    fileprivate var durableInputs: [RecentFrames.DurableInput] {
        map { item in
            switch item {
            case .write(let bytes, _, let record, let header):
                .frame(record.eventID.fileID, offset: record.eventID.offset, bytes: bytes, header: header)
            case .rotate(let fileID, let header):
                .fileStart(fileID, header: header)
            }
        }
    }

    /// Calls every completion in order: success with its record, or the writer's failure.
    fileprivate func complete(with error: TranlogError?) {
        for case .write(_, let completion?, let record, _) in self {
            if let error {
                completion(.failure(.writerFailed(error.description)))
            } else {
                completion(.success(record))
            }
        }
    }
}
