import Tranlog

/// The primary's decision on a standby's `hello`, in the order an operator would want the reasons:
/// a wrong key first (nothing else is told to an unauthenticated peer), then whether this node is a
/// primary at all (a standby does not serve cascaded standbys), then the repository, then whether
/// the standby's history lets it follow this primary.
enum StandbyAdmission {
    static func check(_ hello: Hello, challenge: [UInt8], key: ReplicationKey, log: PrimaryLog) -> RejectReason? {
        guard HelloProof.verify(hello, challenge: challenge, key: key) else { return .wrongKey }
        guard log.isPrimary() else { return .notPrimary }
        guard hello.repositoryID == log.repositoryID else {
            return .otherRepository(primary: log.repositoryID, standby: hello.repositoryID)
        }
        let history = log.history()
        if case .forked(let fork) = hello.history.canFollow(history, from: hello.position) {
            return .forkInTime(primary: history, standby: hello.history, forkSeqno: fork.forkSeqno)
        }
        let lastSeqno = log.durableSeqno()
        guard hello.position.seqno <= lastSeqno else { return .standbyAhead(standby: hello.position.seqno, primary: lastSeqno) }
        return nil
    }
}
