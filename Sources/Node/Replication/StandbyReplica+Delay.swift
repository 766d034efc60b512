import Dispatch
import Replication
import Repository
import Tranlog

/// Where a pause stops applying (`POST /admin/standby/pause`).
enum StandbyPauseTarget: Sendable, Equatable {
    /// After the apply in progress.
    case now
    case seqno(Seqno)
    /// After the last record committed at or before this instant (the primary's clock).
    case time(Timestamp)
}

/// What one apply may take: through `seqno`, and no record committed after `horizon`.
struct ApplyLimit {
    var seqno: Seqno
    var horizon: Timestamp?
    /// The horizon is a pause's `untilTime` (not the delay's): stopping short of `seqno` there means
    /// the next flushed record was committed after it, so the target is reached.
    var atPauseTime = false
}

/// A delayed standby (`--apply-delay`, PostgreSQL's recovery_min_apply_delay) and pausing its apply
/// (pg_wal_replay_pause, recovery_target_time). Receiving, flushing and acknowledging go on as
/// ever; only the apply queue holds back: it applies no record committed after the horizon (the
/// primary's clock, estimated from its heartbeats, minus the delay) and looks again when the next
/// held record's time comes. Held records stay in the handoff while it has room (its byte bound) and
/// are read back from the mirror past it, or after a restart. Everything runs on the apply queue.
extension StandbyReplica {
    /// `POST /admin/standby/pause`. Not on the loop.
    func pause(_ target: StandbyPauseTarget) throws(RepositoryError) -> StandbyModeReport {
        // Stop at once: drop the waiting target; an apply already running completes first (it is atomic).
        if target == .now { pendingApply.withLock { $0 = nil } }
        return try onApplyQueue { () throws(RepositoryError) in try pauseNow(target) }
    }

    /// `POST /admin/standby/resume`: applying goes on (as the delay lets it). Not on the loop.
    func resume() throws(RepositoryError) -> StandbyModeReport {
        try onApplyQueue { () throws(RepositoryError) in
            guard control.state.paused != nil else { return report("not paused; nothing to do") }
            try control.update { $0.paused = nil }
            applyFlushedLater()
            let applied = repository.appliedPosition.seqno
            logger.notice("standby apply resumed", metadata: ["applied": "\(applied)"])
            return report(
                "resumed at seqno \(applied): applying everything flushed"
                    + (applyDelay.map { " once it is \($0.inSeconds) s old (the apply delay)" } ?? ""))
        }
    }

    /// The apply queue's limit under a pause and the delay; nil while paused with nothing more to apply.
    func applyLimit(_ target: Seqno) -> ApplyLimit? {
        var limit = ApplyLimit(seqno: target, horizon: delayHorizon)
        guard let pause = control.state.paused else { return limit }
        if pause.isStopped { return nil }
        if let stop = pause.untilSeqno { limit.seqno = min(limit.seqno, stop) }
        if let time = pause.untilTime, limit.horizon.map({ time <= $0 }) ?? true {
            limit.horizon = time
            limit.atPauseTime = true
        }
        return limit
    }

    /// On the apply queue, after an apply under `limit` of the flushed `target`: records a pause
    /// target reached (a time target: the apply stopped short of `limit.seqno`, flushed, at a record
    /// committed after it), or looks again when the delay lets the next held record through.
    func afterDelayedApply(_ limit: ApplyLimit, target: Seqno) {
        let applied = repository.appliedPosition.seqno
        if let pause = control.state.paused, !pause.isStopped {
            let reached = pause.untilSeqno.map { applied >= $0 } ?? (limit.atPauseTime && applied < limit.seqno)
            if reached { return reachedPauseTarget(pause, applied: applied) }
        }
        guard !limit.atPauseTime, applied < limit.seqno, let applyDelay else { return }
        scheduleRecheck(target: target, applied: applied, delay: applyDelay)
    }

    /// At start: a pause that stopped applying stands where it stopped (a kill -9 may have lost the
    /// position since the last checkpoint; the mirror still holds the records), and applies no further.
    func resumePaused() {
        guard let pause = control.state.paused, pause.isStopped else { return }
        let target = min(pause.appliedSeqno, receiver.flushedSeqno)
        logger.notice("standby apply is paused; `understudy standby resume` resumes it", metadata: ["applied": "\(target)"])
        applyQueue.async { self.apply(through: target) }
    }

    /// The primary's clock now minus the delay: records committed at or before it may be applied.
    var delayHorizon: Timestamp? {
        guard let applyDelay else { return nil }
        let now = primaryClock.withLock { $0 }.now(at: clock.monotonic())
        return Timestamp(rawValue: now.rawValue - applyDelay.microseconds)
    }

    /// `replication.delay` in status, for the positions the status shows.
    func delayStatus(flushed: Seqno, applied: Seqno) -> ApplyDelayStatus? {
        guard let applyDelay, let horizon = delayHorizon else { return nil }
        let held = applied < flushed ? applied.distance(to: flushed) : 0
        let (bytes, limit) = handoff.withLock { ($0.bytes, $0.maxBytes) }
        return ApplyDelayStatus(
            seconds: applyDelay.inSeconds, horizon: horizon, heldRecords: held, heldFromSeqno: held > 0 ? applied.next : nil,
            heldThroughSeqno: held > 0 ? flushed : nil, heldBytesInMemory: bytes, heldBytesLimit: limit)
    }

    /// A promote of a standby paused without a target is refused: whether the operator wants what
    /// is flushed (resume) or exactly the applied position (a target there) cannot be guessed, and
    /// guessing wrong either loses records or brings back the very change the pause was to keep out.
    static func checkPromotable(_ pause: StandbyPause, applied: Seqno) throws(RepositoryError) {
        guard pause.untilSeqno == nil && pause.untilTime == nil else { return }
        throw .notAllowed(
            "this standby's apply is paused at seqno \(applied) without a target, so where its new epoch should begin is "
                + "not clear. To keep everything flushed: `understudy standby resume`, then promote. To begin exactly at "
                + "the applied position and set the later records aside: `understudy standby pause --until-seqno \(applied)`, then promote")
    }

    static func discardedLine(_ discarded: PromoteReport.Discarded) -> String {
        "; paused at its target, it did not apply the \(discarded.records) flushed "
            + "\(discarded.records == 1 ? "record" : "records") after it (seqno \(discarded.fromSeqno)…\(discarded.throughSeqno)): "
            + (discarded.setAside.isEmpty ? "they are not part of the new epoch" : "set aside in \(discarded.setAside.joined(separator: ", "))")
    }

    // MARK: - Helpers

    private func pauseNow(_ target: StandbyPauseTarget) throws(RepositoryError) -> StandbyModeReport {
        let applied = repository.appliedPosition
        var pause = StandbyPause(since: .now(), untilSeqno: nil, untilTime: nil, reachedTarget: false, appliedSeqno: applied.seqno)
        let message: String
        switch target {
        case .now:
            message = "paused at seqno \(applied.seqno): nothing more is applied until `understudy standby resume`; receiving goes on"
        case .seqno(let stop):
            guard stop >= applied.seqno else {
                throw .notAllowed(
                    "cannot pause at seqno \(stop): this standby has already applied through seqno \(applied.seqno). "
                        + "Give a later seqno, or pause now (`understudy standby pause`)")
            }
            pause.untilSeqno = stop
            pause.reachedTarget = stop == applied.seqno
            message = pause.reachedTarget
                ? "paused at seqno \(stop), the target: nothing more is applied until `understudy standby resume`"
                : "pausing at seqno \(stop): applied is at seqno \(applied.seqno); applying goes on until then"
        case .time(let time):
            if let committed = applied.time, committed > time {
                throw .notAllowed(
                    "cannot pause at \(time.iso8601): this standby has already applied through seqno \(applied.seqno), committed "
                        + "at \(committed.iso8601). Give a later time, or pause now (`understudy standby pause`)")
            }
            pause.untilTime = time
            message = "pausing after the last record committed at or before \(time.iso8601): applied is at seqno "
                + "\(applied.seqno); applying goes on until then"
        }
        try control.update { $0.paused = pause }
        logger.notice("standby apply paused", metadata: ["applied": "\(applied.seqno)", "target": "\(target)"])
        if !pause.isStopped { applyFlushedLater() }
        return report(message)
    }

    /// On the apply queue: records that a pause reached its target.
    private func reachedPauseTarget(_ pause: StandbyPause, applied: Seqno) {
        var reached = pause
        reached.reachedTarget = true
        reached.appliedSeqno = applied
        do { try control.update { $0.paused = reached } } catch {
            logger.error("could not record that the pause target was reached", metadata: ["error": "\(error)"])
        }
        logger.notice("standby apply paused: reached its target", metadata: ["applied": "\(applied)"])
    }

    /// Has the apply queue take everything flushed (after the call in progress on it).
    private func applyFlushedLater() {
        if let flushedSeqno = loop.onLoop({ [receiver] in receiver!.flushedSeqno }) { flushed(flushedSeqno) }
    }

    /// Looks again when the next held record's time comes (from the handoff, when it holds it), at
    /// least every second: the primary's clock estimate moves with each heartbeat.
    private func scheduleRecheck(target: Seqno, applied: Seqno, delay: Duration) {
        // One recheck at a time, for the newest target (a flush meanwhile raises it).
        if let scheduled = recheckTarget { return recheckTarget = max(scheduled, target) }
        var wait = Duration.seconds(1)
        if let next = handoff.withLock({ $0.commitTime(after: applied) }), let horizon = delayHorizon {
            let due = Duration.microseconds(next.rawValue - horizon.rawValue)
            wait = min(wait, max(due, .milliseconds(10)))
        }
        recheckTarget = target
        applyQueue.asyncAfter(deadline: .now() + .microseconds(Int(wait.microseconds))) { [weak self] in
            guard let self, let target = recheckTarget else { return }
            recheckTarget = nil
            flushed(target)
        }
    }
}
