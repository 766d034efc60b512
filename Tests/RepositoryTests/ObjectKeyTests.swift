import Testing

@testable import Repository

/// `ObjectKey` compares and hashes by `memcmp` where `[UInt8]` goes byte by byte: it must agree with
/// `[UInt8]`'s equality and byte order on every pair, prefixes and bytes of 0x80 and above included
/// (`memcmp` compares unsigned bytes), or extent runs would be written out of order.
@Suite struct ObjectKeyTests {
    @Test func agreesWithTheBytesEqualityAndOrder() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x00, 0x01, 0x41, 0x7f, 0x80, 0xfe, 0xff]
        let keys: [[UInt8]] = [[]] + (0..<200).map { _ in
            (0..<Int.random(in: 0...5, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
        }
        for left in keys {
            for right in keys {
                let (a, b) = (ObjectKey(left), ObjectKey(right))
                #expect((a == b) == (left == right), "\(left) == \(right)")
                #expect((a < b) == left.lexicographicallyPrecedes(right), "\(left) < \(right)")
                #expect(ObjectKey.precedes(left, right) == left.lexicographicallyPrecedes(right))
                if a == b { #expect(a.hashValue == b.hashValue) }
            }
        }
    }

    /// The sort by 16-byte prefixes (`sortInByteOrder`) gives the bytes' order: keys that share their
    /// first 16 bytes, keys that are prefixes of others, zero bytes where the padding goes.
    @Test func sortingByPrefixGivesTheBytesOrder() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x00, 0x01, 0x41, 0x80, 0xff]
        let shared = Array(repeating: UInt8(0x41), count: 15)
        var keys: Set<[UInt8]> = [[], [0x00], shared, shared + [0x00], shared + [0x00, 0x00]]
        while keys.count < 2_000 {
            let head = Bool.random(using: &generator) ? shared : []
            keys.insert(head + (0..<Int.random(in: 0...20, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
        }
        let shuffled = keys.shuffled(using: &generator)
        var sortedKeys = shuffled.map(ObjectKey.init)
        ObjectKey.sortInByteOrder(&sortedKeys) { $0 }
        let sorted = sortedKeys.map(\.bytes)
        let expected = shuffled.sorted { $0.lexicographicallyPrecedes($1) }
        #expect(sorted.count == expected.count)
        let firstDifference = expected.indices.first { sorted[$0] != expected[$0] }
        #expect(firstDifference == nil, "first out of order: \(firstDifference.map { sorted[$0] } ?? [])")
    }

    @Test func equalBytesInDifferentBuffersAreOneKey() {
        let stored = Array("key-42".utf8)
        var rebuilt = Array("key-4".utf8)
        rebuilt.append(UInt8(ascii: "2"))
        var table: Set<ObjectKey> = [ObjectKey(stored)]
        #expect(table.insert(ObjectKey(rebuilt)).inserted == false)
        #expect(table.count == 1)
    }
}
