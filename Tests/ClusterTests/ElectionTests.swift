@testable import Cluster
import Testing

/// Who may take a free leader lease.
@Suite("Election: the healthiest candidate")
struct ElectionTests {
    private func member(_ name: String, flushed: UInt64, eligible: Bool = true, synchronous: Bool = false, role: String = "standby")
        -> MemberRecord
    {
        MemberRecord(name: name, http: "127.0.0.1:1", replication: "127.0.0.1:2", role: role, epoch: 1, appliedSeqno: flushed,
                     flushedSeqno: flushed, eligible: eligible, synchronous: synchronous, state: "streaming")
    }

    @Test("the highest flushed seqno wins; ties go to the lowest name")
    func highestFlushed() {
        let members = [member("c", flushed: 10), member("b", flushed: 12), member("a", flushed: 12)]
        #expect(Election.candidate(among: members, synchronous: false, lastWinner: nil)?.name == "a")
        #expect(Election.candidate(among: Array(members.prefix(2)), synchronous: false, lastWinner: nil)?.name == "b")
    }

    @Test("members not eligible (offline, diverged, fenced) and a dead leader's lingering record never win")
    func ineligible() {
        let members = [member("a", flushed: 20, eligible: false), member("b", flushed: 30, role: "leader"), member("c", flushed: 5)]
        #expect(Election.candidate(among: members, synchronous: false, lastWinner: "b")?.name == "c")
        #expect(Election.candidate(among: [member("a", flushed: 1, eligible: false)], synchronous: false, lastWinner: nil) == nil)
    }

    @Test("synchronous: only a standby that was required, or the last leader itself, may win")
    func synchronous() {
        let members = [member("a", flushed: 20), member("b", flushed: 19, synchronous: true), member("p", flushed: 18, role: "candidate")]
        #expect(Election.candidate(among: members, synchronous: true, lastWinner: "p")?.name == "b")
        #expect(Election.candidate(among: [members[0], members[2]], synchronous: true, lastWinner: "p")?.name == "p")
        #expect(Election.candidate(among: [members[0]], synchronous: true, lastWinner: "p") == nil)
    }

    @Test("a switchover's target wins while eligible; once it is not, the healthiest does")
    func designated() {
        let members = [member("a", flushed: 20, role: "candidate"), member("b", flushed: 19), member("c", flushed: 18)]
        #expect(Election.candidate(among: members, synchronous: false, lastWinner: "a", designated: "c")?.name == "c")
        let gone = [members[0], members[1], member("c", flushed: 18, eligible: false)]
        #expect(Election.candidate(among: gone, synchronous: false, lastWinner: "a", designated: "c")?.name == "a")
    }
}
