@testable import Cluster
import Foundation
import Testing
import Tranlog

/// What a replaced primary counts as lost, from its own history and its successor's.
@Suite("LossRecord: the exact loss of an asynchronous failover, counted by the old primary")
struct LossRecordTests {
    private let source = SourceID("test")!

    private func entry(_ epoch: UInt64, from start: UInt64, parent: UInt64) -> EpochEntry {
        EpochEntry(epoch: Epoch(epoch), startSeqno: Seqno(start), parentEpoch: Epoch(parent), time: Timestamp(rawValue: 0), sourceID: source)
    }

    private func loss(own: [EpochEntry], durable: UInt64, successor: [EpochEntry]?) throws -> LossRecord {
        LossRecord.of(
            member: "a", own: try EpochHistory(entries: own), durableThrough: Seqno(durable),
            claim: EpochClaim(node: "b", epoch: successor?.last?.epoch.rawValue ?? 2, history: successor), keptIn: "/data/a.replaced-1",
            at: Timestamp(rawValue: 0))
    }

    @Test("the records from where the successor's epoch began through the old primary's durable end")
    func lostRange() throws {
        let record = try loss(own: [entry(1, from: 1, parent: 0)], durable: 140, successor: [entry(1, from: 1, parent: 0), entry(2, from: 101, parent: 1)])
        #expect(record.firstSeqno == 101)
        #expect(record.lastSeqno == 140)
        #expect(record.records == 40)
        #expect(record.summary.contains("lost 40 record(s), seqnos 101…140 of epoch 1"))
    }

    @Test("a successor that had everything: nothing lost")
    func nothingLost() throws {
        let record = try loss(own: [entry(1, from: 1, parent: 0)], durable: 100, successor: [entry(1, from: 1, parent: 0), entry(2, from: 101, parent: 1)])
        #expect(record.records == 0)
        #expect(record.firstSeqno == nil)
        #expect(record.summary.contains("lost nothing"))
    }

    @Test("after two failovers the fork is where the first successor left this node's epoch")
    func twoFailovers() throws {
        let successor = [entry(1, from: 1, parent: 0), entry(2, from: 51, parent: 1), entry(3, from: 90, parent: 2)]
        let record = try loss(own: [entry(1, from: 1, parent: 0)], durable: 60, successor: successor)
        #expect(record.firstSeqno == 51)
        #expect(record.records == 10)
    }

    @Test("histories that parted before this node's epoch: unknown, never a guess")
    func partedEarlier() throws {
        let own = [entry(1, from: 1, parent: 0), entry(2, from: 30, parent: 1)]
        let successor = [entry(1, from: 1, parent: 0), entry(3, from: 20, parent: 1)]
        let record = try loss(own: own, durable: 80, successor: successor)
        #expect(record.records == nil)
        #expect(record.summary.contains("unknown"))
    }
}
