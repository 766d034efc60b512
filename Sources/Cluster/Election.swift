/// Who may try to take a free leader lease: the healthiest eligible member, the one with the highest
/// flushed seqno (ties: the lowest name). With synchronous replication only a standby its primary
/// required may win, so no acknowledged commit is lost; the previous leader itself (the epoch claim
/// names it) always may, since it holds everything it acknowledged. A record still saying `leader`
/// is a dead leader's, not yet expired: the leader key is gone, so it no longer holds the lease.
public enum Election {
    public static func candidate(among members: [MemberRecord], synchronous: Bool, lastWinner: String?) -> MemberRecord? {
        members
            .filter { $0.eligible && $0.role != "leader" && (!synchronous || $0.synchronous || $0.name == lastWinner) }
            .max { ($0.flushedSeqno, $1.name) < ($1.flushedSeqno, $0.name) }
    }
}
