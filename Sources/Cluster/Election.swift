/// Who may try to take a free leader lease: the healthiest eligible member, the one with the highest
/// flushed seqno (ties: the lowest name). With synchronous replication only a standby its primary
/// required may win, so no acknowledged commit is lost; the previous leader itself (the epoch claim
/// names it) always may, since it holds everything it acknowledged. A record still saying `leader`
/// is a dead leader's, not yet expired: the leader key is gone, so it no longer holds the lease.
/// During a planned switchover only its target may win, as long as it is eligible.
public enum Election {
    public static func candidate(among members: [MemberRecord], synchronous: Bool, lastWinner: String?, designated: String? = nil)
        -> MemberRecord?
    {
        let admissible = admissible(members, synchronous: synchronous, lastWinner: lastWinner)
        if let designated, let target = admissible.first(where: { $0.name == designated }) { return target }
        return admissible.max { ($0.flushedSeqno, $1.name) < ($1.flushedSeqno, $0.name) }
    }

    /// The members that may take the lease at all.
    public static func admissible(_ members: [MemberRecord], synchronous: Bool, lastWinner: String?) -> [MemberRecord] {
        members.filter { $0.eligible && $0.role != "leader" && (!synchronous || $0.synchronous || $0.name == lastWinner) }
    }
}
