import Testing
import Tranlog

@testable import Repository

/// The keys a checkpoint writes: each key's last change wins, whatever order the lists were joined
/// in; a deleted key becomes a tombstone at its delete; the entries come out in key order by either
/// path (a dictionary of the changes when they are few next to the table, a scan of the table when
/// they are many); and a list that no checkpoint takes folds to one entry per key instead of growing
/// with every write.
@Suite struct ChangedKeysTests {
    private static func key(_ index: Int) -> [UInt8] { Array("key-\(index)".utf8) }
    private static func put(_ index: Int, _ value: String = "v") -> Tranlog.Operation { .put(key: key(index), value: Array(value.utf8)) }

    /// A table and its change list after `operations` (one commit each, seqnos after
    /// `checkpointed`), beside what a checkpoint must write: the last change of each key.
    private struct Workload {
        var table = ObjectTable()
        var changes = ChangedKeys()
        var expected: [[UInt8]: ExtentEntry] = [:]
        var seqno: Seqno

        init(checkpointed: Seqno, preloaded: Int) {
            seqno = checkpointed
            // Objects the last checkpoint wrote already: not changes.
            for index in 0..<preloaded {
                table.apply([.put(key: Array("old-\(index)".utf8), value: [1])], seqno: Seqno(UInt64(1 + index % Int(checkpointed.rawValue))))
            }
        }

        mutating func commit(_ operation: Tranlog.Operation) {
            seqno = seqno.next
            table.apply([operation], seqno: seqno)
            changes.record(operation, at: seqno)
            switch operation {
            case .put(let key, let value): expected[key] = ExtentEntry(key: key, value: value, seqno: seqno)
            case .delete(let key): expected[key] = ExtentEntry(key: key, value: nil, seqno: seqno)
            }
        }

        var sortedExpectation: [ExtentEntry] { expected.values.sorted { ObjectKey.precedes($0.key, $1.key) } }
    }

    @Test(arguments: [(preloaded: 100, keys: 20, changes: 2_000), (preloaded: 5_000, keys: 300, changes: 400)])
    func aCheckpointWritesEachKeysLastChangeInKeyOrder(preloaded: Int, keys: Int, changes: Int) {
        var generator = SystemRandomNumberGenerator()
        var workload = Workload(checkpointed: Seqno(50), preloaded: preloaded)
        for _ in 0..<changes {
            let index = Int.random(in: 0..<keys, using: &generator)
            workload.commit(Bool.random(using: &generator) && Int.random(in: 0..<4, using: &generator) == 0
                ? .delete(key: Self.key(index)) : Self.put(index, "\(workload.seqno.next)"))
        }
        #expect(workload.changes.entries(of: workload.table, after: Seqno(50)) == workload.sortedExpectation)
    }

    @Test func aKeyDeletedThenWrittenAgainIsItsObjectAndOneDeletedAgainIsATombstoneAtTheLastDelete() {
        for preloaded in [0, 100] {  // both paths
            var workload = Workload(checkpointed: Seqno(10), preloaded: preloaded)
            workload.commit(Self.put(1))
            workload.commit(.delete(key: Self.key(1)))
            workload.commit(Self.put(1, "again"))
            workload.commit(.delete(key: Self.key(2)))
            workload.commit(Self.put(2))
            workload.commit(.delete(key: Self.key(2)))
            let entries = workload.changes.entries(of: workload.table, after: Seqno(10))
            #expect(entries == [ExtentEntry(key: Self.key(1), value: Array("again".utf8), seqno: Seqno(13)), ExtentEntry(key: Self.key(2), value: nil, seqno: Seqno(16))])
        }
    }

    @Test func joinedListsKeepEachKeysLastChange() {
        var older = ChangedKeys()
        older.record(Self.put(1), at: Seqno(1))
        older.record(Self.put(2), at: Seqno(2))
        older.record(.delete(key: Self.key(1)), at: Seqno(3))
        var newer = ChangedKeys()
        newer.record(Self.put(2), at: Seqno(4))
        newer.record(Self.put(3), at: Seqno(5))
        #expect(older.latest().mapValues(\.seqno) == [ObjectKey(Self.key(1)): Seqno(3), ObjectKey(Self.key(2)): Seqno(2)])
        #expect(older.latest()[ObjectKey(Self.key(1))]?.deleted == true)

        var appended = older
        appended.append(newer)
        // A checkpoint that failed gives back what it took in front of what came meanwhile.
        var givenBack = newer
        givenBack.prepend(older)
        let expected = [ObjectKey(Self.key(1)): Seqno(3), ObjectKey(Self.key(2)): Seqno(4), ObjectKey(Self.key(3)): Seqno(5)]
        #expect(appended.latest().mapValues(\.seqno) == expected)
        #expect(givenBack.latest().mapValues(\.seqno) == expected)
        #expect(ChangedKeys().isEmpty && !older.isEmpty)
    }

    /// Lists of every size around a chunk's (4,096 changes), joined either way, as a standby joins
    /// each batch's and each step's to the repository's and a failed checkpoint gives its own back: the
    /// same last change per key, and the same count, as one list recording them all.
    @Test(arguments: [(older: 5_000, newer: 9_000), (older: 4_096, newer: 4_095), (older: 3, newer: 8_192), (older: 10_000, newer: 1)])
    func listsJoinedByTheirChunksKeepEachKeysLastChange(older olderCount: Int, newer newerCount: Int) {
        var older = ChangedKeys(), newer = ChangedKeys(), whole = ChangedKeys()
        var batch: [ChangedKeys.Change] = []
        for seqno in 1...(olderCount + newerCount) {
            let deleted = seqno % 5 == 0
            let operation = deleted ? .delete(key: Self.key(seqno % 997)) : Self.put(seqno % 997)
            if seqno <= olderCount {
                older.record(operation, at: Seqno(UInt64(seqno)))
            } else {
                newer.record(operation, at: Seqno(UInt64(seqno)))
                batch.append(ChangedKeys.Change(key: Self.key(seqno % 997), seqno: Seqno(UInt64(seqno)), deleted: deleted))
            }
            whole.record(operation, at: Seqno(UInt64(seqno)))
        }
        var appended = older
        appended.append(newer)
        var givenBack = newer
        givenBack.prepend(older)
        // As a standby's applier joins a batch's changes, made on the preparing thread.
        var batched = older
        batched.append(contentsOf: batch[...])
        for joined in [appended, givenBack, batched] {
            #expect(joined.count == whole.count)
            #expect(joined.latest().mapValues(\.seqno) == whole.latest().mapValues(\.seqno))
            #expect(joined.latest().mapValues(\.deleted) == whole.latest().mapValues(\.deleted))
        }
        // Recording goes on after a join, behind what was joined.
        appended.record(Self.put(1), at: Seqno(UInt64(olderCount + newerCount + 1)))
        #expect(appended.latest()[ObjectKey(Self.key(1))]?.seqno == Seqno(UInt64(olderCount + newerCount + 1)))
        #expect(appended.count == whole.count + 1)
    }

    @Test func aListNoCheckpointTakesFoldsToOneEntryPerKey() {
        var changes = ChangedKeys(firstFold: 100)
        var model: [ObjectKey: Seqno] = [:]
        for seqno in 1...10_000 {
            let index = seqno % 30
            changes.record(seqno % 7 == 0 ? .delete(key: Self.key(index)) : Self.put(index), at: Seqno(UInt64(seqno)))
            model[ObjectKey(Self.key(index))] = Seqno(UInt64(seqno))
            #expect(changes.count < 100, "after \(seqno) changes of 30 keys the list holds \(changes.count)")
        }
        #expect(changes.latest().mapValues(\.seqno) == model)
        #expect(changes.latest()[ObjectKey(Self.key(10_000 % 30))]?.deleted == (10_000 % 7 == 0))
        // Folded, the list still takes newer changes after the kept ones.
        changes.record(Self.put(7), at: Seqno(10_001))
        #expect(changes.latest()[ObjectKey(Self.key(7))]?.seqno == Seqno(10_001))
    }
}
