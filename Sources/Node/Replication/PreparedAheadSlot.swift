import Tranlog
import Transport

/// The one apply step a standby prepares ahead: from the frames its mirror writer wrote, before or
/// while it syncs them (`StandbyReplica.mirrorWritten`), so that after the sync only its publication
/// is left. The slot's rule keeps readers from seeing what a crash could take back: a step is handed
/// out only once the sync of the drain that began it returned, and every drain begins anew, which
/// drops the step of an earlier drain whose sync may have failed. A preparer that had not started
/// when the sync returned does not start: the frames are applied the usual way instead of waiting
/// for its thread.
final class PreparedAheadSlot<Step: Sendable>: Sendable {
    private struct Entry {
        let through: Seqno
        var step: Step?
        var synced = false
    }

    private let entry = Locked<Entry?>(nil)

    /// On the mirror writer's thread, before a drain's sync: the drain's frames end at `through`; nil
    /// when nothing is prepared for this drain.
    func begin(through: Seqno?) {
        entry.withLock { $0 = through.map { Entry(through: $0) } }
    }

    /// The preparer, before it prepares the step ending at `through`: false when that drain is no
    /// longer the slot's, or its sync already returned, or the slot was closed.
    func startPreparing(through: Seqno) -> Bool {
        entry.withLock { $0?.through == through && $0?.synced == false }
    }

    /// The step prepared for the drain ending at `through`; dropped if another drain began meanwhile.
    func fill(_ step: Step, through: Seqno) {
        entry.withLock { entry in
            guard entry?.through == through else { return }
            entry?.step = step
        }
    }

    /// On the mirror writer's thread, once the sync of the drain that began the slot returned. Whether
    /// a step will come is settled from here on: a preparer that had not started never will.
    func synced() {
        entry.withLock { $0?.synced = true }
    }

    /// Nothing is prepared any more until the next drain begins: the mirror writer stopped.
    func close() {
        entry.withLock { $0 = nil }
    }

    /// The step, if its drain is synced and it ends at or before `target`; empties the slot either way.
    func take(upTo target: Seqno) -> Step? {
        entry.withLock { entry in
            defer { entry = nil }
            guard let taken = entry, taken.synced, taken.through <= target else { return nil }
            return taken.step
        }
    }
}
