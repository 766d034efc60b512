import Tranlog

/// The primary's decision on a standby's `hello`, in the order an operator would want the reasons:
/// a wrong key first (nothing else is told to an unauthenticated peer), then whether this node is a
/// primary at all (a standby does not serve cascaded standbys), then the repository, then whether
/// the standby knows an epoch newer than this primary's (then this node is an old primary and must
/// fence itself), then whether the standby's history lets it follow this primary.
enum StandbyAdmission {
    enum Decision {
        /// Under the key the standby signed its hello with (one of two during a rotation), which the welcome's proof uses.
        case admit(ReplicationKey)
        case reject(RejectReason)
        /// The standby's history holds `EpochEntry`, newer than this primary's current epoch: another
        /// node was promoted, and this one is fenced before the standby is refused.
        case fence(EpochEntry)
    }

    static func check(_ hello: Hello, challenge: [UInt8], key: ReplicationKey, log: PrimaryLog) -> Decision {
        guard let standbyKey = HelloProof.matchingKey(hello, challenge: challenge, key: key) else { return .reject(.wrongKey) }
        guard log.isPrimary() else { return .reject(.notPrimary) }
        guard hello.repositoryID == log.repositoryID else {
            return .reject(.otherRepository(primary: log.repositoryID, standby: hello.repositoryID))
        }
        let history = log.history()
        // Epochs only grow along a history: an epoch above this primary's current one is none of its own.
        if hello.history.current.epoch > history.current.epoch { return .fence(hello.history.current) }
        if case .forked(let fork) = hello.history.canFollow(history, from: hello.position) {
            return .reject(.forkInTime(primary: history, standby: hello.history, forkSeqno: fork.forkSeqno))
        }
        let lastSeqno = log.durableSeqno()
        guard hello.position.seqno <= lastSeqno else { return .reject(.standbyAhead(standby: hello.position.seqno, primary: lastSeqno)) }
        return .admit(standbyKey)
    }
}
