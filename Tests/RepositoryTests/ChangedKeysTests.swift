import Testing
import Tranlog

@testable import Repository

/// The keys a checkpoint writes: each key's last change wins, whatever order the lists were joined
/// in, and a list that no checkpoint takes folds to one entry per key instead of growing with
/// every write.
@Suite struct ChangedKeysTests {
    private static func key(_ index: Int) -> [UInt8] { Array("key-\(index)".utf8) }
    private static func changed(_ index: Int) -> ObjectKey { ObjectKey(key(index)) }

    @Test func eachKeysLastChangeWins() {
        var older = ChangedKeys()
        older.record(Self.key(1), at: Seqno(1))
        older.record(Self.key(2), at: Seqno(2))
        older.record(Self.key(1), at: Seqno(3))
        var newer = ChangedKeys()
        newer.record(Self.key(2), at: Seqno(4))
        newer.record(Self.key(3), at: Seqno(5))
        #expect(older.latest() == [Self.changed(1): Seqno(3), Self.changed(2): Seqno(2)])

        var appended = older
        appended.append(newer)
        // A checkpoint that failed gives back what it took in front of what came meanwhile.
        var givenBack = newer
        givenBack.prepend(older)
        let expected = [Self.changed(1): Seqno(3), Self.changed(2): Seqno(4), Self.changed(3): Seqno(5)]
        #expect(appended.latest() == expected)
        #expect(givenBack.latest() == expected)
        #expect(ChangedKeys().isEmpty && !older.isEmpty)
    }

    @Test func aListNoCheckpointTakesFoldsToOneEntryPerKey() {
        var changes = ChangedKeys(firstFold: 100)
        var model: [ObjectKey: Seqno] = [:]
        for seqno in 1...10_000 {
            let key = Self.key(seqno % 30)
            changes.record(key, at: Seqno(UInt64(seqno)))
            model[ObjectKey(key)] = Seqno(UInt64(seqno))
            #expect(changes.count < 100, "after \(seqno) changes of 30 keys the list holds \(changes.count)")
        }
        #expect(changes.latest() == model)
        // Folded, the list still takes newer changes after the kept ones.
        changes.record(Self.key(7), at: Seqno(10_001))
        #expect(changes.latest()[Self.changed(7)] == Seqno(10_001))
    }
}
