import Testing
import Tranlog

@testable import Node

/// The rule that keeps a standby's readers from seeing what a crash could take back: a step
/// prepared while its frames were being synced is handed out only once that very drain's sync
/// returned, never one of an earlier drain, and never past the apply's target.
@Suite struct PreparedAheadSlotTests {
    @Test func aStepIsHandedOutOnlyOnceItsDrainSynced() {
        let slot = PreparedAheadSlot<String>()
        slot.begin(through: Seqno(10))
        slot.fill("through 10", through: Seqno(10))
        #expect(slot.take(upTo: Seqno(10)) == nil, "its sync has not returned")

        slot.begin(through: Seqno(10))
        slot.fill("through 10", through: Seqno(10))
        slot.synced()
        #expect(slot.take(upTo: Seqno(20)) == "through 10")
        #expect(slot.take(upTo: Seqno(20)) == nil, "handed out once")
    }

    @Test func aLaterDrainDropsTheStepOfAnEarlierOne() {
        let slot = PreparedAheadSlot<String>()
        // Drain 1 (through 10) is prepared, and its sync fails: no `synced()`.
        slot.begin(through: Seqno(10))
        slot.fill("through 10", through: Seqno(10))
        // Drain 2 rewrites the same records after the mirror was reopened, and syncs.
        slot.begin(through: Seqno(10))
        slot.synced()
        #expect(slot.take(upTo: Seqno(10)) == nil, "drain 1's step is not drain 2's")

        // A step prepared late for a drain that is no longer the slot's is dropped.
        slot.begin(through: Seqno(12))
        slot.fill("through 10", through: Seqno(10))
        slot.synced()
        #expect(slot.take(upTo: Seqno(12)) == nil)

        // A drain with nothing to prepare empties the slot too.
        slot.begin(through: Seqno(14))
        slot.fill("through 14", through: Seqno(14))
        slot.synced()
        slot.begin(through: nil)
        slot.synced()
        #expect(slot.take(upTo: Seqno(14)) == nil)
    }

    @Test func aStepPastTheTargetIsNotHandedOut() {
        let slot = PreparedAheadSlot<String>()
        slot.begin(through: Seqno(10))
        slot.fill("through 10", through: Seqno(10))
        slot.synced()
        #expect(slot.take(upTo: Seqno(9)) == nil, "a pause stops the apply at 9")
        #expect(slot.take(upTo: Seqno(10)) == nil, "and the step was dropped")
    }

    @Test func aPreparerStartsOnlyOnItsDrainBeforeTheSyncReturns() {
        let slot = PreparedAheadSlot<String>()
        slot.begin(through: Seqno(10))
        #expect(!slot.startPreparing(through: Seqno(9)), "another drain's frames")
        #expect(slot.startPreparing(through: Seqno(10)))
        slot.synced()
        // Started in time: its step is handed out once it is filled.
        slot.fill("through 10", through: Seqno(10))
        #expect(slot.take(upTo: Seqno(10)) == "through 10")

        // Late: the sync returned first, and the frames are applied the usual way.
        slot.begin(through: Seqno(12))
        slot.synced()
        #expect(!slot.startPreparing(through: Seqno(12)))
        #expect(slot.take(upTo: Seqno(12)) == nil)

        // Closed: the writer stopped (a promotion, a node's stop).
        slot.begin(through: Seqno(14))
        slot.close()
        #expect(!slot.startPreparing(through: Seqno(14)))
    }
}
