import Foundation
import Tranlog

/// What a node learned about a newer epoch, before it is fenced by it.
public struct NewerEpoch: Hashable, Sendable {
    public var epoch: Epoch
    /// Where it began and the node that opened it, when known.
    public var seqno: Seqno?
    public var node: String?
    /// Who told this node: the operator, a standby's hello, a client's request.
    public var learnedFrom: String

    public init(epoch: Epoch, seqno: Seqno? = nil, node: String? = nil, learnedFrom: String) {
        self.epoch = epoch
        self.seqno = seqno
        self.node = node
        self.learnedFrom = learnedFrom
    }
}

extension Repository {
    /// The fence in force, if any. A `fence.json` whose epoch this repository's own history has
    /// reached (the node followed the new primary into it as a standby, or opened a later one) no
    /// longer fences anything.
    /// Never waits for a fence being written (loop threads read it): a commit that raced such a
    /// write is refused by `acknowledgeable` instead.
    public var fence: FenceState? {
        guard let state = fenceStateLock.withLock({ fenceState }), state.epoch > stateLock.withLock({ history.current.epoch }) else {
            return nil
        }
        return state
    }

    /// Whether commits are refused because a newer epoch exists elsewhere. Whoever could fall back
    /// from synchronous to asynchronous replication checks this first: never once fenced.
    public var isFenced: Bool { fence != nil }

    /// The repository's epoch history as it stands (a commitRestore or an applied epochBegin adds to it).
    public var epochHistory: EpochHistory { stateLock.withLock { history } }

    /// The newest epoch this node knows of: its own, or the one it was fenced by.
    public var highestEpochSeen: Epoch { Swift.max(epochHistory.current.epoch, fence?.epoch ?? .none) }

    /// Fences this primary at `newer`: `fence.json` is made durable, then every commit not yet
    /// acknowledged is refused. `fenceLock` is held throughout, and a commit's completion takes it
    /// to decide whether to acknowledge, so each commit is acknowledged before the fence lands or
    /// never. A fence at an epoch no newer than the one in force changes nothing.
    public func fence(at newer: NewerEpoch) throws(RepositoryError) -> FenceOutcome {
        try fenceLock.locked { () throws(RepositoryError) -> FenceOutcome in
            if let current = fence, current.epoch >= newer.epoch { return .alreadyFenced(current) }
            let (restoring, own, visibleSeqno) = stateLock.withLock { (restoreState.active, history.current, applied.seqno) }
            guard !restoring else {
                throw .notAllowed(
                    "this node is in restore mode (a standby, or a restore under way): it accepts no commits, so there is nothing to fence")
            }
            guard newer.epoch > own.epoch else {
                throw .notAllowed("epoch \(newer.epoch) is not newer than this node's own epoch \(own.epoch) (\(own)): nothing to fence")
            }
            let state = FenceState(
                epoch: newer.epoch, seqno: newer.seqno, node: newer.node, learnedFrom: newer.learnedFrom, since: .now(),
                acknowledgedThrough: visibleSeqno)
            let unrecorded: RepositoryError?
            do throws(RepositoryError) { try FenceStore.write(state, directory, fileSystem: fileSystem); unrecorded = nil } catch {
                unrecorded = .fenceNotRecorded(state, file: directory.fenceFile.string, cause: error.description)
            }
            // Fenced even when the file could not be written: a node that knows of a newer epoch
            // acknowledges nothing, whether or not its disk can record that. Only a restart may forget it.
            fenceStateLock.withLock { fenceState = state }
            if let unrecorded {
                logger.critical("\(unrecorded)")
                throw unrecorded
            }
            logger.critical(
                "\(state): this node refuses every commit from now on (learned from \(state.learnedFrom); last commit acknowledged at or before seqno \(visibleSeqno)). Re-seed it as a standby of the new primary, or `understudy unfence` it")
            return .fenced(state)
        }
    }

    /// Lifts the fence: `fence.json` is removed durably, then commits are accepted again. Returns the
    /// fence lifted, nil if there was none.
    public func unfence() throws(RepositoryError) -> FenceState? {
        try fenceLock.locked { () throws(RepositoryError) -> FenceState? in
            guard let current = fenceStateLock.withLock({ fenceState }) else { return nil }
            try FenceStore.remove(directory, fileSystem: fileSystem)
            fenceStateLock.withLock { fenceState = nil }
            logger.critical(
                "UNFENCED by the operator: this node accepts commits again although \(current) (learned from \(current.learnedFrom)). If that epoch's primary also accepts writes, the two histories diverge")
            return current
        }
    }

    /// A durable commit is acknowledged only while no fence is in force (see `fence(at:)`).
    /// On the tranlog's completion thread: waits for a fence being written (`fenceLock`), so a commit is
    /// acknowledged before a fence lands or refused after it.
    func acknowledgeable(_ result: Result<CommitOutcome, RepositoryError>) -> Result<CommitOutcome, RepositoryError> {
        guard case .success = result, let fence = fenceLock.withLock({ fence }) else { return result }
        return .failure(.fenced(fence))
    }
}
