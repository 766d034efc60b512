import Tranlog

/// Why a primary refuses a standby, with everything both operators need to see the problem.
public enum RejectReason: Error, Hashable, Sendable, CustomStringConvertible {
    /// The hello's proof does not match the challenge under the primary's key.
    case wrongKey
    case otherRepository(primary: RepositoryID, standby: RepositoryID)
    case protocolVersion(primary: UInt16, standby: UInt16)
    /// The standby holds records past the point where its history and the primary's part.
    case forkInTime(primary: EpochHistory, standby: EpochHistory, forkSeqno: Seqno)
    /// The standby's last record has the primary's seqno but not its CRC: another timeline.
    case divergentRecord(seqno: Seqno, primaryCRC: UInt32, standbyCRC: UInt32)
    /// The standby's mirror ends somewhere the primary's file of that id has no record boundary.
    case mirrorMismatch(primary: EventID, standby: EventID)
    /// The records the standby needs next were purged from the primary. `oldestAvailable` is nil
    /// when the primary has no plain tranlog file left.
    case logsRemoved(needed: Seqno, oldestAvailable: Seqno?)
    /// The standby holds records the primary does not (an old primary rejoining without a rewind).
    case standbyAhead(standby: Seqno, primary: Seqno)
    /// A base copy was asked while the primary runs a full backup (one at a time): try again later.
    case backupInProgress(detail: String)
    /// The primary could not make the base copy's backup (its disk is full, say): the detail says why.
    case baseCopyFailed(detail: String)
    /// The node asked is itself a standby: standbys are not cascaded. It serves once promoted.
    case notPrimary
    /// The node asked was a primary until it learned of a newer epoch (this standby's history holds
    /// it, or another did): it is fenced and serves no standby of that epoch. The detail says which.
    case fenced(detail: String)

    /// What the primary's refusal log tells refusals apart by: the two an unauthenticated peer can
    /// cause by a case of their own (their details are the peer's to vary), the rest by their text.
    var logKind: String {
        switch self {
        case .wrongKey: "wrong key"
        case .protocolVersion: "protocol version"
        default: description
        }
    }

    public var description: String {
        switch self {
        case .wrongKey:
            "authentication failed: the standby's replication key is not the primary's"
        case .otherRepository(let primary, let standby):
            "the primary serves repository \(primary), the standby belongs to repository \(standby)"
        case .protocolVersion(let primary, let standby):
            "the primary speaks replication protocol version \(primary), the standby version \(standby)"
        case .forkInTime(let primary, let standby, let forkSeqno):
            "fork in time at seqno \(forkSeqno): the standby (history \(standby)) holds records the primary "
                + "(history \(primary)) does not; rebuild the standby from a backup of the primary"
        case .divergentRecord(let seqno, let primaryCRC, let standbyCRC):
            "the standby's record \(seqno) has CRC \(hex(standbyCRC)), the primary's \(hex(primaryCRC)): "
                + "they are different timelines; rebuild the standby from a backup of the primary"
        case .mirrorMismatch(let primary, let standby):
            "the standby's mirror ends at \(standby), but the primary's next record is at \(primary)"
        case .logsRemoved(let needed, let oldest):
            "standby needs seqno \(needed); oldest available is "
                + (oldest.map { String(describing: $0) } ?? "none (no tranlogs left)")
                + ": restore the standby from a newer backup"
        case .standbyAhead(let standby, let primary):
            "the standby holds records up to seqno \(standby), past the primary's last seqno \(primary)"
        case .backupInProgress(let detail):
            "the primary is busy with another full backup (\(detail)); the base copy is retried later"
        case .baseCopyFailed(let detail):
            "the primary could not make the base copy: \(detail)"
        case .notPrimary:
            "the node at this address is in restore mode (a standby, or a restore under way), and a standby does not "
                + "serve cascaded standbys: point this standby at the primary, or leave it retrying until that node is promoted"
        case .fenced(let detail):
            "the node at this address is an old primary, \(detail); point this standby at the primary of that epoch"
        }
    }
}

/// A message that breaks the protocol: the connection carrying it is closed with this as the reason.
public enum ProtocolViolation: Error, Hashable, Sendable, CustomStringConvertible {
    case lengthOutOfRange(length: UInt32, maximum: Int)
    case checksumMismatch(stored: UInt32, computed: UInt32)
    case unknownType(UInt8)
    case malformed(type: MessageType, reason: String)
    /// A well-formed message that is not allowed at this point of the conversation.
    case unexpected(MessageType, state: String)

    public var description: String {
        switch self {
        case .lengthOutOfRange(let length, let maximum):
            "message length \(length) is outside \(MessageCodec.minimumMessageBytes)...\(maximum)"
        case .checksumMismatch(let stored, let computed):
            "message CRC mismatch (stored \(hex(stored)), computed \(hex(computed)))"
        case .unknownType(let type): "unknown message type \(type)"
        case .malformed(let type, let reason): "malformed \(type) message: \(reason)"
        case .unexpected(let type, let state): "unexpected \(type) message while \(state)"
        }
    }
}
