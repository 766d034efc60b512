/// Why a receiver cannot go on by itself, reported to the node (which takes the standby offline
/// until an operator acts): a retry would fail the same way, or write over a disk that already failed.
public enum ReceiverFault: Sendable, Equatable, CustomStringConvertible {
    /// Writing or syncing the mirror failed: the receiver stopped for good (`LogReceiver.State.failed`).
    case mirrorWrite(String)
    /// The primary refused this standby for a reason only an operator can clear (`RejectReason.needsOperator`).
    case rejected(RejectReason)

    public var description: String {
        switch self {
        case .mirrorWrite(let reason): "the mirror cannot be written: \(reason)"
        case .rejected(let reason): "the primary refused this standby: \(reason)"
        }
    }
}

extension RejectReason {
    /// True when reconnecting cannot help: another timeline, another repository, or logs the primary
    /// no longer holds. A wrong key or protocol version is fixed on either side without touching the
    /// standby, so those keep retrying; so do a busy primary, an upstream not promoted yet and a fenced
    /// old primary (the operator re-points the standby; until then its status names the reason).
    public var needsOperator: Bool {
        switch self {
        case .wrongKey, .protocolVersion, .backupInProgress, .baseCopyFailed, .notPrimary, .fenced: false
        case .otherRepository, .forkInTime, .divergentRecord, .mirrorMismatch, .logsRemoved, .standbyAhead: true
        }
    }
}
