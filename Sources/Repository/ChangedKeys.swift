import Tranlog

/// The keys changed since the last checkpoint, with the seqno of each change and whether it was a
/// delete, in the order the changes were made. Recording one is an append: no hashing on the commit
/// path or on a standby's applier, where a dictionary lookup per key was a tenth of the applier's
/// time. The checkpoint, on its own thread, turns them into extent entries (`entries(of:after:)`).
///
/// Without checkpoints (suspended for a backup, or failing) the list would grow with every write,
/// so it folds itself to one entry per key once it has doubled since the last fold: memory stays
/// proportional to the keys changed, at an amortized cost of at most one hash per change.
struct ChangedKeys: Sendable {
    /// One change: the key, the seqno of the commit that made it, and whether it deleted the key.
    struct Change: Sendable {
        let key: [UInt8]
        let seqno: Seqno
        let deleted: Bool
    }

    /// The changes in chunks, oldest first: full (or joined) chunks, then the one being filled. Many
    /// changes are joined by their chunks, not copied one by one (a retain each): a standby joins each
    /// batch's changes, made on the preparing thread, and each step's to the repository's under the
    /// state lock; copying them was a tenth of a catch-up's applier.
    private var sealed: [ArraySlice<Change>] = []
    private var open: [Change] = []
    private(set) var count = 0
    private static let chunkSize = 4096
    /// Fewer changes than this are copied into the open chunk rather than joined as a chunk.
    private static let joinedFrom = 256
    /// Changes kept before the first fold: a checkpoint normally comes long before (64 MiB of log
    /// is about 600,000 changes of 100-byte values).
    private let firstFold: Int
    private var foldAt: Int

    init(firstFold: Int = 4_000_000) {
        self.firstFold = firstFold
        foldAt = firstFold
    }

    var isEmpty: Bool { count == 0 }

    mutating func record(_ operation: Operation, at seqno: Seqno) {
        switch operation {
        case .put(let key, _): record(key, at: seqno, deleted: false)
        case .delete(let key): record(key, at: seqno, deleted: true)
        }
    }

    mutating func record(_ key: [UInt8], at seqno: Seqno, deleted: Bool) {
        add(Change(key: key, seqno: seqno, deleted: deleted))
        if count >= foldAt { fold() }
    }

    /// Appends changes made elsewhere (a batch's, by the standby's preparing thread), which came
    /// after these.
    mutating func append(contentsOf changes: ArraySlice<Change>) {
        if changes.count < Self.joinedFrom {
            for change in changes { add(change) }
        } else {
            seal()
            sealed.append(changes)
            count += changes.count
        }
        if count >= foldAt { fold() }
    }

    /// Appends `newer`'s changes, which came after these.
    mutating func append(_ newer: ChangedKeys) {
        if newer.count < Self.joinedFrom {
            for change in newer.changes { add(change) }
        } else {
            seal()
            sealed += newer.sealed
            open = newer.open
            count += newer.count
        }
        if count >= foldAt { fold() }
    }

    /// Puts `older`'s changes, which came before these, in front (a checkpoint that failed gives
    /// back what it took).
    mutating func prepend(_ older: ChangedKeys) {
        sealed = older.sealed + (older.open.isEmpty ? [] : [older.open[...]]) + sealed
        count += older.count
        if count >= foldAt { fold() }
    }

    /// Every change, oldest first.
    private var changes: FlattenSequence<[ArraySlice<Change>]> { (sealed + [open[...]]).joined() }

    /// A list that outgrows one chunk gets whole chunks at once, not an array that doubles.
    private mutating func add(_ change: Change) {
        open.append(change)
        count += 1
        guard open.count == Self.chunkSize else { return }
        seal()
        open.reserveCapacity(Self.chunkSize)
    }

    /// Ends the open chunk: what is appended next goes after it.
    private mutating func seal() {
        guard !open.isEmpty else { return }
        sealed.append(open[...])
        open = []
    }

    /// Each changed key with its last change: its seqno, and whether it was a delete.
    func latest() -> [ObjectKey: (seqno: Seqno, deleted: Bool)] {
        var latest: [ObjectKey: (seqno: Seqno, deleted: Bool)] = Dictionary(minimumCapacity: min(count, 1 << 20))
        for change in changes { latest[ObjectKey(change.key)] = (change.seqno, change.deleted) }
        return latest
    }

    /// What a checkpoint of `table` writes for these changes, in key order: each changed key's
    /// object in `table`, or a tombstone at its last change where `table` no longer holds it.
    /// `checkpointed`: the seqno of the checkpoint these changes follow.
    ///
    /// With many changes per object (a standby catching up rewrites the same keys over and over) a
    /// scan of the table for objects written after `checkpointed` replaces a dictionary of every
    /// change and a lookup per key, which miss the cache at each step: the objects changed since a
    /// checkpoint are exactly those (every write is recorded here), and only deletes need the list.
    func entries(of table: ObjectTable, after checkpointed: Seqno) -> [ExtentEntry] {
        var entries: [ExtentEntry]
        if count >= table.count / 4 {
            entries = table.entries(writtenAfter: checkpointed)
            var deletes: [ObjectKey: Seqno] = [:]
            for change in changes where change.deleted { deletes[ObjectKey(change.key)] = change.seqno }
            for (key, seqno) in deletes where table[key.bytes] == nil {
                entries.append(ExtentEntry(key: key.bytes, value: nil, seqno: seqno))
            }
        } else {
            entries = latest().map { key, last in
                table[key.bytes].map { ExtentEntry(key: key.bytes, value: $0.value, seqno: $0.seqno) }
                    ?? ExtentEntry(key: key.bytes, value: nil, seqno: last.seqno)
            }
        }
        ObjectKey.sortInByteOrder(&entries) { ObjectKey($0.key) }
        return entries
    }

    private mutating func fold() {
        // Kept in seqno order, as if each key had been changed only once, at its last change.
        let kept = latest().map { Change(key: $0.key.bytes, seqno: $0.value.seqno, deleted: $0.value.deleted) }.sorted { $0.seqno < $1.seqno }
        (sealed, open, count) = ([], [], 0)
        for change in kept { add(change) }
        foldAt = max(firstFold, 2 * count)
    }
}
