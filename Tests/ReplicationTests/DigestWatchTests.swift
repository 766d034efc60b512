import Repository
import Testing
import Tranlog

@testable import Replication

/// Heartbeats carry the primary's content digest to the standby, which compares it with its own
/// once it stands at the same seqno.
@Suite struct DigestWatchTests {
    static let primaryDigest = ContentDigest(high: 0xAAAA, low: 0x5555)

    @Test func heartbeatsDeliverThePrimarysDigestToTheStandby() throws {
        let harness = try ReplicationHarness()
        try harness.primary.commit(30)
        harness.primary.digest = PositionedDigest(seqno: harness.primary.lastSeqno, value: Self.primaryDigest)
        try harness.listen()
        var heard: [PositionedDigest] = []
        let receiver = try harness.makeReceiver(onHeartbeat: { heard.append($0.digest) })
        receiver.start()
        harness.loop.run()
        harness.loop.advanceTime(by: .seconds(1))
        #expect(heard.last == harness.primary.digest)

        var watch = DigestWatch()
        watch.hear(try #require(heard.last))
        let seqno = harness.primary.lastSeqno
        #expect(watch.divergence(of: PositionedDigest(seqno: seqno, value: Self.primaryDigest)) == nil, "equal content")
        #expect(watch.divergence(of: PositionedDigest(seqno: Seqno(seqno.rawValue - 1), value: .empty)) == nil, "not there yet")
        let corrupted = ContentDigest(high: 1, low: 2)
        let divergence = try #require(watch.divergence(of: PositionedDigest(seqno: seqno, value: corrupted)))
        #expect(divergence == Divergence(seqno: seqno, primary: Self.primaryDigest, standby: corrupted))
        #expect(divergence.description.contains("at seqno \(seqno)"))
        #expect(divergence.description.contains("\(Self.primaryDigest)") && divergence.description.contains("\(corrupted)"))
    }

    @Test func onlyTheLatestHeardDigestCounts() {
        var watch = DigestWatch()
        watch.hear(PositionedDigest(seqno: Seqno(5), value: Self.primaryDigest))
        watch.hear(PositionedDigest(seqno: Seqno(6), value: Self.primaryDigest))
        #expect(watch.divergence(of: PositionedDigest(seqno: Seqno(5), value: .empty)) == nil, "a standby past an old digest is not compared to it")
    }
}
