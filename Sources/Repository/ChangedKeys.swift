import Tranlog

/// The keys changed since the last checkpoint, with the seqno of each change, in the order the
/// changes were made. Recording one is an append: no hashing on the commit path or on a standby's
/// applier, where a dictionary lookup per key was a tenth of the applier's time. The checkpoint,
/// on its own thread, keeps each key's last change (`latest`).
///
/// Without checkpoints (suspended for a backup, or failing) the list would grow with every write,
/// so it folds itself to one entry per key once it has doubled since the last fold: memory stays
/// proportional to the keys changed, at an amortized cost of at most one hash per change.
struct ChangedKeys: Sendable {
    private var changes: [(key: [UInt8], seqno: Seqno)] = []
    /// Changes kept before the first fold: a checkpoint normally comes long before (64 MiB of log
    /// is about 600,000 changes of 100-byte values).
    private let firstFold: Int
    private var foldAt: Int

    init(firstFold: Int = 4_000_000) {
        self.firstFold = firstFold
        foldAt = firstFold
    }

    var isEmpty: Bool { changes.isEmpty }
    var count: Int { changes.count }

    mutating func record(_ key: [UInt8], at seqno: Seqno) {
        changes.append((key, seqno))
        if changes.count >= foldAt { fold() }
    }

    /// Appends `newer`'s changes, which came after these.
    mutating func append(_ newer: ChangedKeys) {
        changes.append(contentsOf: newer.changes)
        if changes.count >= foldAt { fold() }
    }

    /// Puts `older`'s changes, which came before these, in front (a checkpoint that failed gives
    /// back what it took).
    mutating func prepend(_ older: ChangedKeys) {
        changes = older.changes + changes
        if changes.count >= foldAt { fold() }
    }

    /// Each changed key with the seqno of its last change.
    func latest() -> [ObjectKey: Seqno] {
        var latest: [ObjectKey: Seqno] = Dictionary(minimumCapacity: min(changes.count, 1 << 20))
        for change in changes { latest[ObjectKey(change.key)] = change.seqno }
        return latest
    }

    private mutating func fold() {
        let latest = latest()
        // Kept in seqno order, as if each key had been changed only once, at its last change.
        changes = latest.map { (key: $0.key.bytes, seqno: $0.value) }.sorted { $0.seqno < $1.seqno }
        foldAt = max(firstFold, 2 * changes.count)
    }
}
