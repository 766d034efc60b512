import Testing
import Tranlog

@testable import Repository

/// A standby's applier moves prepared writes into the table (`apply(taking:of:)`) instead of
/// copying them: the table and its digest must come out as the same operations applied one by one
/// would leave them, the writes taken must leave empty slots behind, and the others stay as made.
@Suite struct ObjectTableTests {
    private static func key(_ index: Int) -> [UInt8] { Array("key-\(index)".utf8) }
    private static func value(_ index: Int, _ seqno: Int) -> [UInt8] { Array("value-\(index)-\(seqno)".utf8) }

    @Test func writesMovedInLeaveWhatTheirOperationsWouldAndEmptySlots() {
        var seeded = ObjectTable()
        seeded.apply((0..<50).map { Operation.put(key: Self.key($0), value: Self.value($0, 1)) }, seqno: Seqno(1))
        // Overwrites, deletes (one of a key never written), inserts, and a key written twice.
        var operations: [(Operation, Seqno)] = []
        operations += (0..<20).map { (.put(key: Self.key($0), value: Self.value($0, 2)), Seqno(2)) }
        operations += (20..<30).map { (.delete(key: Self.key($0)), Seqno(3)) }
        operations.append((.delete(key: Self.key(999)), Seqno(3)))
        operations += (50..<70).map { (.put(key: Self.key($0), value: Self.value($0, 4)), Seqno(4)) }
        operations.append((.put(key: Self.key(5), value: Self.value(5, 5)), Seqno(5)))
        var writes = operations.map { PreparedWrite($0.0, seqno: $0.1) }
        let taken = 1..<writes.count - 1

        var expected = seeded
        for (operation, seqno) in operations[taken] { expected.apply([operation], seqno: seqno) }
        var moved = seeded
        moved.apply(taking: taken, of: &writes)

        #expect(moved.count == expected.count)
        #expect(moved.digest == expected.digest)
        for index in [0, 5, 19, 20, 29, 30, 49, 50, 69, 999] {
            #expect(moved[Self.key(index)] == expected[Self.key(index)], "key \(index)")
        }
        #expect(moved[Self.key(0)]?.value == Self.value(0, 1), "the first write was not in the range taken")
        #expect(writes[taken].allSatisfy { $0.key.bytes.isEmpty && $0.object == nil })
        #expect(writes.first?.key.bytes == Self.key(0) && writes.first?.object?.value == Self.value(0, 2))
        #expect(writes.last?.key.bytes == Self.key(5) && writes.last?.object?.value == Self.value(5, 5))
    }
}
