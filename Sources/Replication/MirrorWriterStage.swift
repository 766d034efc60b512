import Foundation
import Repository
import SystemPackage
import Tranlog
import Transport

/// The standby's mirror writer (the write-and-flush half of PostgreSQL's walreceiver), between the
/// receiver's loop and the applier. The loop only splits the stream into messages and submits them;
/// the writer takes everything queued at once (a drained queue), checks each file header and frame
/// header against the chain (`StreamValidator`), appends, and syncs once for the lot. Only then does
/// it report back to the loop (which acknowledges) and hand the frames to the applier in memory.
///
/// Work carries the connection it came on: after a refused message, the rest of that connection's
/// work is dropped (the loop closes it). After a failed write or sync nothing more is written until
/// `replaceMirror`. The writer and validator are touched only by the draining thread, except in
/// `replaceMirror`, which runs while the writer is failed (and so idle).
final class MirrorWriterStage: @unchecked Sendable {
    enum Work: Sendable {
        case fileStart([UInt8])
        case records(RecordBatch)
    }

    /// How drains run: on a thread of their own (a node), or as loop work (tests on the fake loop,
    /// whose loop thread is the test's; the drain code is the same).
    enum Mode: Sendable {
        case thread
        case onLoop
    }

    private let condition = NSCondition()
    private var queue: [(work: Work, connection: Int)] = []
    private var draining = false
    /// Drains reported so far (`isSettled`).
    private var reportsPosted = 0
    /// The mirror's end as of the last sync that returned (`syncedSeqno`).
    private var synced: Seqno
    private var failed = false
    private var closed = false
    private var writer: MirrorLogWriter
    private var validator: StreamValidator
    private var refusedConnection: Int?
    private let loop: any EventLoop
    private let mode: Mode
    private let report: (MirrorReport) -> Void
    private let beforeSync: ([MirroredFrames]) -> Void
    private let onMirrored: @Sendable ([MirroredFrames]) -> Void
    private let onFlushed: (Seqno) -> Void

    /// `report` runs on the loop after each drain; `beforeSync` on the draining thread, with the frames
    /// a drain wrote, before it syncs them (the applier may prepare them, but must not show them to
    /// readers before `onFlushed`); `onMirrored` on the draining thread, after the
    /// sync and before the report is posted, so the applier holds the frames before it hears of them;
    /// `onFlushed` on the draining thread after a drain that synced records, with the mirror's end,
    /// once the report is posted: the applier starts without waiting for the loop to wake, and
    /// whatever it tells the loop arrives after the report.
    init(
        writer: MirrorLogWriter, validator: StreamValidator, loop: any EventLoop, mode: Mode,
        report: @escaping (MirrorReport) -> Void, beforeSync: @escaping ([MirroredFrames]) -> Void,
        onMirrored: @escaping @Sendable ([MirroredFrames]) -> Void, onFlushed: @escaping (Seqno) -> Void
    ) {
        self.writer = writer
        self.validator = validator
        synced = validator.lastSeqno
        self.loop = loop
        self.mode = mode
        self.report = report
        self.beforeSync = beforeSync
        self.onMirrored = onMirrored
        self.onFlushed = onFlushed
        if mode == .thread {
            Thread.start(named: "mirror-writer") { [self] in run() }
        }
    }

    /// On the loop: queues one message of `connection`.
    func submit(_ work: Work, connection: Int) {
        let wasEmpty = condition.withLock {
            queue.append((work, connection))
            return queue.count == 1 && !draining
        }
        // Outside the lock: a thread woken while the loop holds it would only block on it again.
        // The writer checks the queue under the lock before it waits, so no wake-up is lost.
        condition.signal()
        if mode == .onLoop && wasEmpty { loop.execute { [self] in drainAndReport() } }
    }

    /// Nothing queued, no drain in progress, and the loop has taken `absorbed` reports, all there
    /// are: the last report describes the whole mirror.
    func isSettled(absorbed: Int) -> Bool { condition.withLock { queue.isEmpty && !draining && reportsPosted == absorbed } }

    /// Any thread: the mirror's end as of the moment its last sync returned. The loop hears of it a
    /// report later; this is for reading beside the applied position, as of one moment.
    var syncedSeqno: Seqno { condition.withLock { synced } }

    /// Drops queued work (the receiver stopped: none of it was acknowledged).
    func discardQueued() {
        condition.withLock { queue.removeAll() }
    }

    /// Off the loop: waits until no drain is in progress and the last one's report is posted to the
    /// loop (a promotion must not race a write).
    func waitUntilIdle() {
        condition.withLock { while draining || !queue.isEmpty && !closed { condition.wait() } }
    }

    /// Off the loop, once the receiver stopped: waits until no drain is in progress, then runs `body`
    /// on the writer as a drain would (nothing else drains meanwhile); not on a failed writer.
    func withIdleWriter(_ body: (MirrorLogWriter) throws(TranlogError) -> Void) throws(TranlogError) {
        let idle: MirrorLogWriter? = condition.withLock {
            while draining || !queue.isEmpty && !closed { condition.wait() }
            guard !failed else { return nil }
            draining = true
            return writer
        }
        guard let idle else { return }
        defer {
            condition.withLock {
                draining = false
                condition.broadcast()
            }
        }
        try body(idle)
    }

    /// After a failure, once the disk is fixed: takes the reopened mirror; returns the failed writer.
    func replaceMirror(writer: MirrorLogWriter, validator: StreamValidator) -> MirrorLogWriter {
        condition.withLock {
            precondition(failed, "a mirror is replaced only after its writer failed")
            defer {
                self.writer = writer
                self.validator = validator
                synced = validator.lastSeqno
                failed = false
            }
            return self.writer
        }
    }

    /// Ends the thread once the queue is empty.
    func close() {
        condition.withLock {
            closed = true
            condition.broadcast()
        }
    }

    private func run() {
        while waitForWork() { drainAndReport() }
    }

    private func waitForWork() -> Bool {
        condition.withLock {
            while queue.isEmpty && !closed { condition.wait() }
            return !queue.isEmpty
        }
    }

    private func drainAndReport() {
        let (items, wasFailed) = condition.withLock {
            draining = true
            defer { queue.removeAll() }
            return (queue, failed)
        }
        let (outcome, mirrored) = wasFailed ? (MirrorReport(view: MirrorView(validator)), []) : drain(items)
        if !mirrored.isEmpty { onMirrored(mirrored) }
        condition.withLock {
            draining = false
            reportsPosted += 1
            if outcome.failure != nil { failed = true }
            // Posted under the lock (no I/O: it only queues loop work), so that whoever sees the
            // writer idle finds its report queued on the loop already.
            if mode == .thread { loop.execute { [self] in report(outcome) } }
            condition.broadcast()
        }
        if mode == .onLoop { report(outcome) }
        if outcome.failure == nil && !mirrored.isEmpty { onFlushed(outcome.view.lastSeqno) }
    }

    /// Checks and writes every item, then syncs once. What was accepted before a refused message
    /// stays and is synced; a failed write or sync stops everything.
    private func drain(_ items: [(work: Work, connection: Int)]) -> (MirrorReport, [MirroredFrames]) {
        var outcome = MirrorReport(view: MirrorView(validator))
        var mirrored: [MirroredFrames] = []
        for item in items where item.connection != refusedConnection {
            do throws(MirrorFailure) {
                if let batch = try write(item.work) {
                    mirrored.append(batch)
                    outcome.receivedBytes += batch.frames.count
                }
            } catch {
                switch error {
                case .refused(let reason):
                    refusedConnection = item.connection
                    outcome.refusal = (item.connection, reason)
                case .mirror(let error):
                    outcome.failure = error.description
                    return (outcome, [])
                }
            }
        }
        beforeSync(mirrored)
        do { try writer.sync() } catch {
            outcome.failure = error.description
            return (outcome, [])
        }
        outcome.view = MirrorView(validator)
        condition.withLock { synced = outcome.view.lastSeqno }
        return (outcome, mirrored)
    }

    private func write(_ work: Work) throws(MirrorFailure) -> MirroredFrames? {
        switch work {
        case .fileStart(let bytes):
            switch validator.acceptFileStart(bytes) {
            case .failure(let violation): throw .refused(violation.description)
            case .success(let header):
                do { try writer.startFile(header, bytes: bytes) } catch { throw .mirror(error) }
                return nil
            }
        case .records(let batch):
            switch validator.acceptRecords(batch) {
            case .failure(let violation): throw .refused(violation.description)
            case .success(let headers):
                do { try writer.append(batch.frames) } catch { throw .mirror(error) }
                let header = validator.file!
                return MirroredFrames(
                    file: writer.fileRef(header.fileID), fileHeader: header, offset: batch.firstEventID.offset, frames: batch.frames,
                    headers: headers)
            }
        }
    }
}

/// What a drain of the mirror writer tells the loop.
struct MirrorReport: Sendable {
    /// The mirror's end after the drain: written and synced, unless `failure`.
    var view: MirrorView
    /// Frame bytes written by the drain.
    var receivedBytes = 0
    /// A refused message, and the connection it came on.
    var refusal: (connection: Int, reason: String)?
    /// Why writing or syncing the mirror failed.
    var failure: String?
}

/// The end of the mirror as the loop needs it: for the hello, acks and lag.
struct MirrorView: Sendable {
    var lastSeqno: Seqno
    var lastCRC: UInt32
    /// The epoch the mirror is in, and the epoch of its last record (nil before any).
    var epoch: Epoch?
    var lastEpoch: Epoch?
    var mirrorEnd: EventID?
    var lastTime: Timestamp?

    init(_ validator: StreamValidator) {
        lastSeqno = validator.lastSeqno
        lastCRC = validator.lastCRC
        epoch = validator.chain.epoch
        lastEpoch = validator.chain.lastEpoch
        mirrorEnd = validator.mirrorEnd
        lastTime = validator.lastTime
    }
}

/// Why the writer stopped on an item: a refused message, or a failed write.
private enum MirrorFailure: Error {
    case refused(String)
    case mirror(TranlogError)
}
