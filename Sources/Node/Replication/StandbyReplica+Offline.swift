import Logging
import Replication
import Repository
import Tranlog

/// Taking a standby offline and online (Tungsten's `replicator offline|online`). Offline, the
/// receiver is disconnected and nothing is applied; the mirror keeps what it holds. Every change
/// runs on the apply queue, so it never races an apply, and is durable (`StandbyControlStore`)
/// before it is answered. Faults take the standby offline by themselves, and `online` clears one
/// only once it is gone (or, for a refusal by the primary, when the operator says so with `force`).
extension StandbyReplica {
    /// `POST /admin/standby/offline`. Not on the loop.
    func offline(_ request: StandbyOfflineRequest) throws(RepositoryError) -> StandbyModeReport {
        if let stop = request.atSeqno {
            return try onApplyQueue { () throws(RepositoryError) in try offline(at: stop) }
        }
        if request.immediate == true {
            try stopReceiving()
            // Apply no more from now on: drop the waiting target; an apply already running
            // completes first (it is atomic). `online` applies the rest.
            pendingApply.withLock { $0 = nil }
            return try onApplyQueue { () throws(RepositoryError) in try setOffline(.requested, "taken offline immediately by request") }
        }
        let flushed = try stopReceiving()
        return try onApplyQueue { () throws(RepositoryError) in
            if control.state.offline == nil, let limit = applyLimit(flushed) {
                // A plain offline replaces a pending --at-seqno: finish everything flushed (that a
                // pause and the apply delay let through; the rest is applied after `online`).
                apply(through: limit.seqno, notAfter: limit.horizon)
            }
            return try setOffline(.requested, "taken offline by request, after applying everything flushed (seqno \(flushed))")
        }
    }

    /// `POST /admin/standby/online`: clears the offline state (re-checking a fault), reconnects, and
    /// applies what the mirror holds beyond the applied position. Not on the loop.
    func online(force: Bool) throws(RepositoryError) -> StandbyModeReport {
        try onApplyQueue { () throws(RepositoryError) in
            guard let offline = control.state.offline else {
                let pending = control.state.offlineAtSeqno
                try control.update { $0.offlineAtSeqno = nil }
                return report("already online" + (pending.map { "; the pending offline at seqno \($0) is cancelled" } ?? ""))
            }
            if let fault = offline.fault { try recheck(fault, force: force) }
            try control.update { $0 = StandbyControlState(paused: $0.paused) }
            let flushed = loop.onLoop { [receiver] in
                receiver!.start()
                return receiver!.flushedSeqno
            }
            guard let flushed else { throw .busy("the node is stopping") }
            // The receiver asks the primary for the record after the mirror's last one; what the
            // mirror holds beyond the applied position is applied now.
            self.flushed(flushed)
            logger.notice("standby online", metadata: ["applied": "\(repository.appliedPosition.seqno)", "flushed": "\(flushed)"])
            return report("online: applied seqno \(repository.appliedPosition.seqno); receiving from seqno \(flushed.next)")
        }
    }

    /// At start: the offline state to resume, if any. A fault is re-checked by starting online (it
    /// takes the standby offline again at once if it is still there: the disk was fixed, the position
    /// corrected, a copy put in place…); an offline by request stays. `--offline` adds one.
    func startingOffline(_ requested: Bool) throws(NodeError) -> StandbyOffline? {
        do {
            if let offline = control.state.offline, offline.reason == .fault {
                logger.notice("standby was offline after a fault; starting online to re-check it", metadata: ["fault": "\(offline.detail)"])
                try control.update { $0 = StandbyControlState(paused: $0.paused) }
            }
            if requested, control.state.offline == nil {
                let applied = repository.appliedPosition.seqno
                try control.update {
                    $0.offline = StandbyOffline(reason: .requested, detail: "started with --offline", since: .now(), appliedSeqno: applied)
                    $0.offlineAtSeqno = nil
                }
            }
        } catch {
            throw .repository(error)
        }
        return control.state.offline
    }

    /// Restarted while offline: stand where the standby was taken offline (a kill -9 may have lost
    /// the position since the last checkpoint; the mirror still holds the records), receive nothing.
    func resumeOffline(_ offline: StandbyOffline) {
        let target = min(offline.appliedSeqno, receiver.flushedSeqno)
        logger.notice("standby is offline (\(offline.detail)); `understudy standby online` resumes it", metadata: ["applied": "\(target)"])
        applyQueue.async { self.apply(through: target) }
    }

    /// The apply queue's target under the offline state: nil while offline, capped by a pending --at-seqno.
    func applyTarget(_ target: Seqno) -> Seqno? {
        let state = control.state
        if state.offline != nil { return nil }
        return state.offlineAtSeqno.map { min($0, target) } ?? target
    }

    /// On the apply queue, after an apply: goes offline once a pending --at-seqno is reached.
    func offlineIfReachedStop() {
        guard let stop = control.state.offlineAtSeqno, control.state.offline == nil, repository.appliedPosition.seqno >= stop else { return }
        loop.execute { [receiver] in receiver!.stop() }
        do { _ = try setOffline(.requested, "reached seqno \(stop) (offline --at-seqno)") } catch {
            logger.error("could not record the offline state", metadata: ["error": "\(error)"])
        }
    }

    /// On the apply queue: stops receiving and records the fault.
    func goOffline(fault: StandbyFault) {
        loop.execute { [receiver] in receiver!.stop() }
        logger.error("standby offline after a fault: \(fault.message)")
        do { _ = try setOffline(.fault, fault.message, fault: fault) } catch {
            let path = StandbyControlStore.path(in: repository.directory)
            logger.error(
                "the fault is shown and blocks `online`, but could not be recorded in \(path); a restart re-checks it anyway",
                metadata: ["error": "\(error)"])
        }
    }

    /// On the loop: the receiver cannot go on by itself.
    func faulted(_ fault: ReceiverFault) {
        let kind: StandbyFault.Kind
        switch fault {
        case .mirrorWrite: kind = .mirrorWrite
        case .rejected: kind = .rejected
        }
        applyQueue.async { self.goOffline(fault: StandbyFault(kind: kind, message: fault.description)) }
    }

    /// Promoted: the node is no standby any more.
    func forgetOfflineState() {
        do { try control.update { $0 = StandbyControlState() } } catch {
            logger.warning("could not remove \(StandbyControlStore.path(in: repository.directory)): \(error)")
        }
    }

    /// `status` with the offline state (`state` becomes `offline`) and the paused one, whose
    /// `appliedSeqno` is the seqno applied now.
    static func overlay(_ control: StandbyControlState, on status: StandbyReplicationStatus) -> StandbyReplicationStatus {
        var status = status
        status.offline = control.offline
        status.offlineAtSeqno = control.offlineAtSeqno
        status.paused = control.paused.map { StandbyPause(
            since: $0.since, untilSeqno: $0.untilSeqno, untilTime: $0.untilTime, reachedTarget: $0.reachedTarget,
            appliedSeqno: status.applied.seqno) }
        if control.offline != nil { status.state = "offline" }
        return status
    }

    // MARK: - Helpers

    private func offline(at stop: Seqno) throws(RepositoryError) -> StandbyModeReport {
        if control.state.offline != nil { return report("already offline; nothing to do") }
        let applied = repository.appliedPosition.seqno
        guard stop >= applied else {
            throw .notAllowed(
                "cannot go offline at seqno \(stop): this standby has already applied through seqno \(applied). "
                    + "Give a later seqno, or take it offline now (`understudy standby offline`)")
        }
        if stop == applied {
            try stopReceiving()
            return try setOffline(.requested, "reached seqno \(stop) (offline --at-seqno)")
        }
        try control.update { $0.offlineAtSeqno = stop }
        // Records already flushed up to the stop are applied now, the rest as they arrive.
        if let flushed = loop.onLoop({ [receiver] in receiver!.flushedSeqno }) { self.flushed(flushed) }
        logger.notice("standby goes offline at seqno \(stop)", metadata: ["applied": "\(applied)"])
        return report("going offline at seqno \(stop): applied is at seqno \(applied); streaming and applying go on until then")
    }

    /// On the apply queue: records the offline state at the applied position.
    private func setOffline(_ reason: StandbyOffline.Reason, _ detail: String, fault: StandbyFault? = nil) throws(RepositoryError) -> StandbyModeReport {
        if let already = control.state.offline, already.fault != nil || fault == nil {
            return report("already offline: \(already.detail)")
        }
        let applied = repository.appliedPosition.seqno
        // A fault while offline by request keeps the request (a restart stays offline) and records the fault.
        let kept = control.state.offline.map { (reason: $0.reason, detail: "\($0.detail); then: \(detail)") } ?? (reason: reason, detail: detail)
        let state = StandbyControlState(
            offline: StandbyOffline(reason: kept.reason, detail: kept.detail, since: .now(), appliedSeqno: applied, fault: fault),
            paused: control.state.paused)
        // A fault shows even when the disk cannot record it (it may be the disk that failed).
        if fault != nil { try control.updateEvenIfNotDurable { $0 = state } } else { try control.update { $0 = state } }
        if reason == .requested { logger.notice("standby offline: \(detail)", metadata: ["applied": "\(applied)"]) }
        return report("offline at seqno \(applied): \(detail)")
    }

    /// A fault blocks `online` until it is gone: the check depends on what failed.
    private func recheck(_ fault: StandbyFault, force: Bool) throws(RepositoryError) {
        switch fault.kind {
        case .mirrorWrite:
            try reopenFailedMirror(fault)
        case .apply:
            let flushed = loop.onLoop { [receiver] in receiver!.flushedSeqno } ?? .zero
            do { _ = try exclusively { () throws(RepositoryError) in try repository.applyLocalLogs(through: flushed) } } catch {
                throw .notAllowed(
                    "cannot go online: applying the mirror still fails: \(error). Replace the damaged tranlog in "
                        + "\(repository.directory.tranlogs) with the primary's copy, or put a fresh copy of the primary in place "
                        + "of the data directory (docs/OPERATIONS.md, \"Restore an external backup\"), then run `understudy standby online` "
                        + "or restart the standby")
            }
        case .rejected, .diverged:
            guard force else {
                throw .notAllowed(
                    "cannot go online: \(fault.message). Reconnecting cannot fix this: rebuild the standby from a fresh copy "
                        + "of the primary (docs/OPERATIONS.md, \"Restore an external backup\"), or fix the primary; then run "
                        + "`understudy standby online --force` or restart the standby (refused again, it goes offline again)")
            }
        }
    }

    /// A receiver whose mirror failed writes nothing until the mirror is opened anew, which it is
    /// once the disk takes writes again (here, off the loop; a torn tail is cut as at start).
    private func reopenFailedMirror(_ fault: StandbyFault) throws(RepositoryError) {
        guard let failed = loop.onLoop({ [receiver] in if case .failed = receiver!.state { true } else { false } }) else {
            throw .busy("the node is stopping")
        }
        guard failed else { return }
        let reopened: ReopenedMirror
        do { reopened = try receiver.reopenMirror() } catch {
            throw .notAllowed(
                "cannot go online: \(fault.message); the mirror still cannot be written (\(error)). Free or repair the disk "
                    + "holding \(repository.directory.tranlogs), then run `understudy standby online` again")
        }
        guard loop.onLoop({ [receiver] in receiver!.resume(with: reopened) }) != nil else { throw .busy("the node is stopping") }
        do { try reopened.closeReplaced() } catch {
            logger.warning("could not close the failed mirror's file", metadata: ["error": "\(error)"])
        }
    }

    @discardableResult
    private func stopReceiving() throws(RepositoryError) -> Seqno {
        let flushed = loop.onLoop { [receiver] in
            receiver!.stop()
            return receiver!.flushedSeqno
        }
        guard let flushed else { throw .busy("the node is stopping") }
        return flushed
    }

    func report(_ message: String) -> StandbyModeReport {
        let state = control.state
        let flushed = loop.onLoop { [receiver] in receiver!.flushedSeqno } ?? .zero
        return StandbyModeReport(
            state: state.offline != nil ? "offline" : state.offlineAtSeqno != nil ? "going-offline" : "online",
            applied: repository.appliedPosition, flushedSeqno: flushed, offline: state.offline, offlineAtSeqno: state.offlineAtSeqno,
            paused: state.paused, message: message)
    }

    func onApplyQueue<Value>(_ body: () throws(RepositoryError) -> Value) throws(RepositoryError) -> Value {
        try applyQueue.sync { () -> Result<Value, RepositoryError> in Result { () throws(RepositoryError) in try body() } }.get()
    }
}
