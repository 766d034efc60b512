import Dispatch
import Foundation
import Logging
import Replication
import Repository
import Tranlog
import Transport
import TransportUV

/// A standby's replication: a `LogReceiver` mirrors the primary's tranlog into the node's own
/// `tranlogs/`, and a serial apply queue replays it into the repository (in restore mode) as far as
/// it is flushed, until `promote()`. The apply queue takes the frames the mirror writer synced from
/// memory (`handoff`); it reads the mirror from disk only for what memory does not hold: after a
/// restart, or past a gap left when the applier fell more than the handoff's bound behind. A
/// caught-up standby's step is applied to a copy of the table while the mirror writer syncs its
/// frames, and made visible once the sync returned (`PreparedAheadSlot`).
///
/// Applying is coalesced: a flush while an apply runs only raises the target, so the queue always
/// applies through the newest flushed seqno and never runs two applies at once (the repository
/// would refuse the second as busy). Promotion runs on the same queue, so it never races an apply.
/// Taking the standby offline and online (`StandbyReplica+Offline.swift`) runs there too, and so do
/// the apply delay and pauses (`StandbyReplica+Delay.swift`): they only cap what an apply takes.
///
/// `@unchecked Sendable`: `receiver` is set once in `init` and used on the loop, except for the
/// calls it makes for other threads (`syncedSeqno`, `waitForMirrorWriter`, `finishMirror`).
final class StandbyReplica: @unchecked Sendable {
    let primary: SocketAddress
    let loop: UVEventLoop
    let repository: Repository
    let logger: Logger
    let applyQueue = DispatchQueue(label: "understudy.standby.apply")
    /// The newest flushed seqno not yet taken by the apply queue; nil when none is waiting.
    let pendingApply = Locked<Seqno?>(nil)
    private(set) var receiver: LogReceiver!
    /// Offline or online, kept in the data directory.
    let control: StandbyControlStore
    /// The primary's latest content digest, from its heartbeats (set on the loop, read on the apply queue).
    let digestWatch = Locked(DigestWatch())
    /// Frames synced by the mirror writer, for the apply queue (filled on the writer's thread).
    let handoff = Locked(MirrorHandoff())
    /// The step prepared from the frames the mirror writer is syncing (`mirrorWritten`).
    let preparedAhead = PreparedAheadSlot<PreparedReplay>()
    /// Where that step is prepared while the sync runs, when a synchronous primary waits for this
    /// standby (`mirrorWritten`). Not the apply queue, which the writer waits for after the sync
    /// (`mirrorFlushed`): a preparation that has not started by then never starts, and the writer
    /// applies the frames itself rather than wait for this queue's thread.
    let prepareQueue = DispatchQueue(label: "understudy.standby.prepare")
    /// Whether the primary's last heartbeat said that its synchronous commits wait for this standby's
    /// acks (`mirrorWritten`).
    let acksAwaited = Locked(false)
    /// Held while records are applied to the repository: by the apply queue, which waits for it, and
    /// by a preparation, which is skipped when it is taken. The repository refuses a second restore
    /// operation as busy; this keeps the two from ever meeting there.
    let applyExclusion = NSLock()
    /// `--apply-delay`: each record is applied only this long after its commit time (the primary's clock).
    let applyDelay: Duration?
    /// The primary's clock, from its heartbeats (set on the loop, read on the apply queue); the
    /// standby's own wall clock until the first one.
    let primaryClock: Locked<PrimaryClockEstimate>
    let clock = ReplicationClock.system
    /// The target of the delayed re-apply scheduled, if one is (used on the apply queue only).
    var recheckTarget: Seqno?

    /// Opens the mirror and starts receiving. The repository must be open in restore mode.
    init(
        loop: UVEventLoop, repository: Repository, key: ReplicationKey, primary: SocketAddress, startOffline: Bool = false,
        applyDelay: Duration? = nil, logger: Logger
    ) throws(NodeError) {
        self.primary = primary
        self.loop = loop
        self.repository = repository
        self.logger = logger
        self.applyDelay = applyDelay
        primaryClock = Locked(PrimaryClockEstimate(time: clock.wall(), at: clock.monotonic()))
        control = try StandbyControlStore(directory: repository.directory, fileSystem: repository.fileSystem)
        let status = repository.status
        let configuration = LogReceiver.Configuration(
            primaryHost: primary.host, primaryPort: primary.port, repositoryID: status.repositoryID, sourceID: status.sourceID)
        // From memory, never the file: the handshakes run on the loop. The repository's copy is set
        // once the file holding it is durable, so it is as fresh as a read of the file.
        let history: @Sendable () -> EpochHistory = { [repository] in repository.epochHistory }
        do {
            receiver = try LogReceiver(
                loop: loop, directory: repository.directory.tranlogs, fileSystem: repository.fileSystem, key: key,
                configuration: configuration, history: history,
                restoredTo: status.applied, logger: logger, onFlushed: { [weak self] in self?.mirrorFlushed($0) },
                onFault: { [weak self] in self?.faulted($0) }, onHeartbeat: { [weak self] in self?.heard($0) },
                beforeSync: { [weak self] in self?.mirrorWritten($0) },
                onMirrored: { [weak self] mirrored in self?.handoff.withLock { $0.push(mirrored) } })
        } catch {
            throw .repository(.tranlog(error))
        }
        if let offline = try startingOffline(startOffline) {
            resumeOffline(offline)
            return
        }
        resumePaused()
        // A restarted standby's mirror may already hold records past the last checkpoint: apply them now.
        flushed(receiver.flushedSeqno)
        loop.execute { [receiver] in receiver!.start() }
    }

    /// For `GET /status`; nil once the loop stopped.
    var status: StandbyReplicationStatus? {
        let control = control.state
        return loop.onLoop { [receiver, primary] in StandbyReplicationStatus(receiver: receiver!, primary: "\(primary)") }
            .map { Self.overlay(control, on: $0) }
            .map { status in
                var status = status
                status.delay = delayStatus(flushed: status.flushed.seqno, applied: status.applied.seqno)
                let synced = receiver.syncedSeqno
                status.applyBacklog = ApplyBacklogStatus(synced: synced, applied: repository.appliedPosition, readAt: .now())
                return status
            }
    }

    /// Disconnects and waits for the mirror writer and a running apply, so the repository can close
    /// with nothing writing into its directory. Not on the loop.
    func stop() {
        _ = loop.executeAndWait { [receiver] in receiver!.stop() }
        receiver.waitForMirrorWriter()
        preparedAhead.close()
        prepareQueue.sync {}
        applyQueue.sync {}
    }

    /// Stops receiving, applies everything flushed and opens a new epoch: the node becomes a primary.
    /// On a node not in restore mode it does nothing and says so (idempotent: a retried promote after
    /// a lost answer must not fail). Not on the loop.
    func promote() throws(RepositoryError) -> PromoteReport {
        var phase = PhaseTimer()
        return try applyQueue.sync { () -> Result<PromoteReport, RepositoryError> in
            Result { () throws(RepositoryError) in try promoteNow(waitedForApply: phase.lap(), phase: &phase) }
        }.get()
    }

    private func promoteNow(waitedForApply: Double, phase: inout PhaseTimer) throws(RepositoryError) -> PromoteReport {
        guard repository.isRestoring else { return try Self.promoteNonStandby(repository) }
        let pause = control.state.paused
        if let pause { try Self.checkPromotable(pause, applied: repository.appliedPosition.seqno) }
        guard loop.executeAndWait({ [receiver] in receiver!.stop() }) != nil else { throw .busy("the node is stopping") }
        // Nothing may be written into the mirror once the new epoch's file is; the writer's last
        // report reaches the loop before the next call does.
        do { try receiver.finishMirror() } catch { throw .tranlog(error) }
        let stopped = loop.executeAndWait { [receiver] in
            (
                flushed: receiver!.flushedSeqno, primaryLast: receiver!.lag.primaryLastSeqno, standing: receiver!.standing,
                acked: receiver!.lastAck
            )
        }
        guard let stopped else { throw .busy("the node is stopping") }
        // No preparation starts from here on; one in progress holds the repository until it ends,
        // and the apply below waits for it: none is left to meet the commit as busy.
        preparedAhead.close()
        let stopMilliseconds = phase.lap()
        // Paused at a target: the target, not the delay, says where the new epoch begins.
        let applied = try applyFlushed(through: min(stopped.flushed, pause?.untilSeqno ?? stopped.flushed), notAfter: pause?.untilTime)
        let applyMilliseconds = phase.lap()
        let committed = try repository.commitRestore(by: "promote")
        let discarded = applied.seqno < stopped.flushed
            ? PromoteReport.Discarded(
                fromSeqno: applied.seqno.next, throughSeqno: stopped.flushed, records: applied.seqno.distance(to: stopped.flushed),
                setAside: committed.setAside)
            : nil
        forgetOfflineState()
        let lost = stopped.primaryLast.map { $0.rawValue > applied.seqno.rawValue ? $0.rawValue - applied.seqno.rawValue : 0 }
        let exact = Self.exactLoss(stopped.standing, acked: stopped.acked, applied: applied.seqno)
        logger.notice(
            "promoted",
            metadata: [
                "epoch": "\(committed.epoch)", "seqno": "\(applied.seqno)", "lostRecords": "\(lost.map(String.init) ?? "unknown")",
                "acknowledgedCommitsLost": "\(exact.map { String($0.acknowledgedCommitsLost) } ?? "unknown")",
                "discarded": "\(discarded.map { "seqno \($0.fromSeqno)…\($0.throughSeqno)" } ?? "none")",
            ])
        return PromoteReport(
            promoted: true, applied: applied, epoch: committed.epoch, primaryLastSeqno: stopped.primaryLast, lostRecords: lost,
            milliseconds: .init(
                waitForApply: waitedForApply, stopReceiver: stopMilliseconds, applyFlushed: applyMilliseconds, commitRestore: phase.lap()),
            message: "promoted: epoch \(committed.epoch) begins after seqno \(applied.seqno)"
                + (exact.map(Self.exactLossLine) ?? lost.map(Self.lossLine) ?? "; the primary's last seqno is unknown")
                + (discarded.map(Self.discardedLine) ?? ""),
            exactLoss: exact, discarded: discarded)
    }

    /// The loss is exact when the primary last said this standby's ack was required for every commit
    /// and that it never falls back to asynchronous acknowledgements (it keeps waiting for this
    /// standby until told it heard otherwise), and the promotion kept everything the standby acked:
    /// then no commit the primary acknowledged is missing.
    static func exactLoss(_ standing: SynchronousStanding, acked: Ack, applied: Seqno) -> PromoteReport.ExactLoss? {
        guard let required = standing.required, required.fallbackAfter == nil, required.level.position(in: acked) <= applied else { return nil }
        return PromoteReport.ExactLoss(acknowledgedCommitsLost: 0, level: required.level, synchronousSince: required.since.iso8601)
    }

    static func exactLossLine(_ exact: PromoteReport.ExactLoss) -> String {
        "; \(exact.acknowledgedCommitsLost) acknowledged commits lost (synchronous at level \(exact.level.rawValue) since "
            + "\(exact.synchronousSince)); records the primary wrote without acknowledging them are not counted"
    }

    /// What the promote report says of the records the standby never received: a lower bound, since
    /// what the primary made durable after its last word to the standby is not known here.
    static func lossLine(_ lost: UInt64) -> String {
        "; at least \(lost) \(lost == 1 ? "record" : "records") of the primary never reached this standby (a lower bound: "
            + "records the primary made durable after its last heartbeat are not counted)"
    }

    /// `promote` on a node that is not a standby (any more): completes a commit an error
    /// interrupted after its commit point, reports a finished promotion without changing anything,
    /// and refuses a primary that never was a standby, or a manual restore.
    static func promoteNonStandby(_ repository: Repository) throws(RepositoryError) -> PromoteReport {
        if repository.pendingCommit != nil {
            let completed = try repository.commitRestore(by: "promote")
            return PromoteReport(
                promoted: true, applied: completed.epochBegin, epoch: completed.epoch, primaryLastSeqno: nil, lostRecords: nil,
                milliseconds: nil, message: completed.message)
        }
        let status = repository.status
        if let promotion = repository.promotion {
            return PromoteReport(
                promoted: false, applied: status.applied, epoch: status.epoch, primaryLastSeqno: nil, lostRecords: nil, milliseconds: nil,
                message: "already promoted at epoch \(status.epoch), seqno \(status.applied.seqno) (`\(promotion.by)` at "
                    + "\(promotion.time.iso8601) opened epoch \(promotion.epoch) at seqno \(promotion.seqno))")
        }
        if status.restoring {
            throw .notAllowed(
                "this node is in restore mode for a manual restore, not a standby: finish the restore with `understudy restore commit`")
        }
        throw .notAllowed("this node is a primary, not a standby: there is nothing to promote (epoch \(status.epoch), seqno \(status.applied.seqno))")
    }

    /// Raises the apply target, starting the queue if it was idle.
    func flushed(_ seqno: Seqno) {
        if raiseApplyTarget(to: seqno) { applyQueue.async { self.applyPending() } }
    }

    /// On the mirror writer's thread, after each drain it synced. A caught-up standby's step (a few
    /// records, the queue idle) is published, or applied, right here through the queue (`sync` runs
    /// an idle serial queue's work on the calling thread): waking the queue's own thread cost each
    /// record's replay lag a context switch. A larger step (a catch-up) goes to that thread, so the
    /// writer keeps syncing while it is applied.
    private func mirrorFlushed(_ seqno: Seqno) {
        // The step prepared from this drain's frames (if any) may be published now: they are synced.
        preparedAhead.synced()
        let behind = repository.appliedPosition.seqno.distance(to: seqno)
        guard raiseApplyTarget(to: seqno) else { return }
        if behind <= Self.recordsAppliedOnTheMirrorWriter {
            applyQueue.sync { applyPending() }
        } else {
            applyQueue.async { self.applyPending() }
        }
    }

    static let recordsAppliedOnTheMirrorWriter: UInt64 = 64

    /// On the mirror writer's thread, once a drain wrote its frames and before it syncs them: a
    /// caught-up standby's step is prepared now, so that after the sync only its publication is
    /// left. Every drain replaces the slot: a step is only ever published for the drain it was
    /// prepared from, once that drain's sync returned (`PreparedAheadSlot`).
    ///
    /// Where it is prepared depends on who waits for the sync. A synchronous primary waiting for
    /// this standby's acks waits for the sync, so the step is prepared on the prepare queue while
    /// the sync runs, and the sync starts at once. Any other standby prepares it right here, before
    /// the sync: on the prepare queue it was often not done when the sync returned (its thread gets
    /// a vCPU late on a busy machine), and the writer then waited for it. At 6,000 commits/s
    /// (`lag-ab.sh`, eight pairs) synced records not yet visible were found in 1% of samples, against
    /// 3–6%, and the lag p99 fell from 1.6–2.7 ms to 0–1.8 ms; the sync starts later by the step's
    /// preparation (26 µs at the median at that rate).
    private func mirrorWritten(_ mirrored: [MirroredFrames]) {
        let through = mirrored.last?.lastSeqno.flatMap { last in
            let caughtUp = repository.appliedPosition.seqno.distance(to: last) <= Self.recordsAppliedOnTheMirrorWriter
            return caughtUp && pendingApply.withLock { $0 == nil } ? last : nil
        }
        preparedAhead.begin(through: through)
        guard let through else { return }
        if acksAwaited.withLock({ $0 }) {
            prepareQueue.async { self.prepareAhead(mirrored, through: through) }
        } else {
            prepareAhead(mirrored, through: through)
        }
    }

    /// On the mirror writer's thread or the prepare queue: applies `mirrored` to a copy of the table,
    /// holding `applyExclusion`, if the sync has not returned yet and nothing holds the apply back
    /// (offline, a pause, the delay), which the usual apply after the sync then heeds. An apply in
    /// progress holds the repository: it gets its work done, and this drain's records take the
    /// usual path.
    private func prepareAhead(_ mirrored: [MirroredFrames], through: Seqno) {
        guard applyExclusion.try() else { return }
        defer { applyExclusion.unlock() }
        guard preparedAhead.startPreparing(through: through), applyTarget(through) == through, let limit = applyLimit(through),
            limit.seqno == through, limit.horizon == nil
        else { return }
        do {
            preparedAhead.fill(try repository.prepareMirrored(mirrored, through: through), through: through)
        } catch {
            // Busy (a manual restore operation), or promoted meanwhile: the usual apply after the
            // sync meets the same, and reports it.
        }
    }

    /// Runs `body`, which applies flushed records to the repository, holding `applyExclusion`.
    func exclusively<Value>(_ body: () throws(RepositoryError) -> Value) throws(RepositoryError) -> Value {
        applyExclusion.lock()
        defer { applyExclusion.unlock() }
        return try body()
    }

    /// On the apply queue: publishes the step prepared from synced frames through at most `target`,
    /// if there is one and the repository still stands where it began.
    private func publishPreparedAhead(through target: Seqno) throws(RepositoryError) -> AppliedPosition? {
        guard let prepared = preparedAhead.take(upTo: target), let position = try repository.publishPrepared(prepared) else { return nil }
        handoff.withLock { $0.release(through: position.seqno) }
        return position
    }

    /// True when no apply was pending: the caller starts one.
    private func raiseApplyTarget(to seqno: Seqno) -> Bool {
        pendingApply.withLock { pending in
            defer { pending = max(pending ?? seqno, seqno) }
            return pending == nil
        }
    }

    private func applyPending() {
        while let target = pendingApply.withLock({ pending in defer { pending = nil }; return pending }) {
            applyLimited(through: target)
        }
    }

    /// On the apply queue: applies through `target` as far as the offline state, a pause and the
    /// delay let it.
    func applyLimited(through target: Seqno) {
        // Offline: what is flushed waits for `online`; a pending --at-seqno caps the target.
        guard let limited = applyTarget(target), let limit = applyLimit(limited) else { return }
        let applied = apply(through: limit.seqno, notAfter: limit.horizon)
        offlineIfReachedStop()
        // Only a whole apply says where the horizon or a pause target stopped it.
        if applied { afterDelayedApply(limit, target: target) }
    }

    /// False when the apply failed (logged, and offline unless the repository was busy).
    @discardableResult
    func apply(through target: Seqno, notAfter horizon: Timestamp? = nil) -> Bool {
        do {
            let position = try applyFlushed(through: target, notAfter: horizon)
            loop.execute { [receiver] in receiver!.applied(through: position.seqno, time: position.time) }
            checkDigest()
            return true
        } catch {
            // Promoted meanwhile: nothing left to apply.
            if case .restoreNotActive = error { return false }
            logger.error("applying the mirrored tranlog failed", metadata: ["through": "\(target)", "error": "\(error)"])
            // Another restore operation holds the repository: the next flush retries. Anything else
            // (a damaged or forked record, a gap) fails the same way every time: offline until fixed.
            if case .busy = error { return false }
            goOffline(fault: StandbyFault(kind: .apply, message: "applying the mirrored tranlog through seqno \(target) failed: \(error)"))
            return false
        }
    }
}

extension StandbyReplica {
    /// On the apply queue: applies through `target` (and no record committed after `horizon`) from
    /// the frames handed over in memory, then from the mirror on disk for whatever they do not cover.
    func applyFlushed(through target: Seqno, notAfter horizon: Timestamp? = nil) throws(RepositoryError) -> AppliedPosition {
        try exclusively { () throws(RepositoryError) in try applyFlushedHeld(through: target, notAfter: horizon) }
    }

    private func applyFlushedHeld(through target: Seqno, notAfter horizon: Timestamp?) throws(RepositoryError) -> AppliedPosition {
        if horizon == nil, let position = try publishPreparedAhead(through: target), position.seqno >= target { return position }
        let mirrored = handoff.withLock { $0.batches(through: target) }
        let position: AppliedPosition
        do { position = try repository.applyMirrored(mirrored, through: target, notAfter: horizon) } catch {
            handoff.withLock { $0.release(through: repository.appliedPosition.seqno) }
            throw error
        }
        handoff.withLock { $0.release(through: position.seqno) }
        guard position.seqno < target else { return position }
        // Held by the horizon, as the next record in memory shows: no need to read the mirror.
        if let horizon, let next = handoff.withLock({ $0.commitTime(after: position.seqno) }), next > horizon { return position }
        let reached = try repository.applyLocalLogs(through: target, notAfter: horizon)
        handoff.withLock { $0.release(through: reached.seqno) }
        return reached
    }

    /// On the loop: remembers the primary's clock and digest and has the apply queue compare the
    /// digest, in case the standby already stands at its seqno (idle and caught up, no apply to
    /// trigger the check).
    private func heard(_ heartbeat: Heartbeat) {
        let now = clock.monotonic()
        primaryClock.withLock { $0 = PrimaryClockEstimate(time: heartbeat.primaryTime, at: now) }
        digestWatch.withLock { $0.hear(heartbeat.digest) }
        acksAwaited.withLock { $0 = heartbeat.standing.required != nil }
        applyQueue.async { self.checkDigest() }
    }

    /// On the apply queue: a standby whose content differs from the primary's at the same seqno
    /// stops applying (offline with a `diverged` fault, logged once); anything applied on top of
    /// it would only spread the difference.
    func checkDigest() {
        guard control.state.offline == nil, let divergence = digestWatch.withLock({ $0 }).divergence(of: repository.digest) else { return }
        goOffline(
            fault: StandbyFault(
                kind: .diverged,
                message: "\(divergence). Nothing more is applied: seed this standby again from the primary "
                    + "(docs/OPERATIONS.md, \"A diverged standby\"); `understudy verify` names the first differing key"))
    }
}

/// Milliseconds between successive laps, for the promote report's phases.
struct PhaseTimer {
    private var last = ContinuousClock.now

    mutating func lap() -> Double {
        let now = ContinuousClock.now
        defer { last = now }
        return (now - last).inSeconds * 1e3
    }
}
