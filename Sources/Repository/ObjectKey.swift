import Foundation

/// A key as the object table and a checkpoint's change set hold it: the same bytes as the
/// `[UInt8]` they wrap (no copy), compared with one `memcmp` and hashed in one call. `[UInt8]`'s own
/// `==`, `hash(into:)` and `lexicographicallyPrecedes` go byte by byte, and a standby catching up
/// runs them for every operation it applies and every key a checkpoint writes (docs/DECISIONS.md,
/// "A catch-up is CPU-bound on two cores").
struct ObjectKey: Hashable, Comparable, Sendable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    static func == (left: ObjectKey, right: ObjectKey) -> Bool {
        left.bytes.count == right.bytes.count && compare(left.bytes, right.bytes) == 0
    }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// Byte order (unsigned, a prefix first): the order of extent runs and backups.
    static func < (left: ObjectKey, right: ObjectKey) -> Bool {
        precedes(left.bytes, right.bytes)
    }

    /// `left.lexicographicallyPrecedes(right)`, by `memcmp`.
    static func precedes(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        let common = compare(left, right)
        return common != 0 ? common < 0 : left.count < right.count
    }

    /// Sorts `items` into the byte order of their keys (keys distinct). The sort moves plain values
    /// (each key's first 16 bytes as two big-endian integers, and the item's index) and reads a key's
    /// bytes only where those tie: sorting the items themselves retained and released their arrays
    /// at every move, most of a checkpoint's CPU while a standby caught up. The items are then
    /// swapped into place, cycle by cycle: a swap moves them, where building a sorted copy retained
    /// each item's arrays once more (a cache miss for each, in a table of scattered objects).
    static func sortInByteOrder<Item>(_ items: inout [Item], key: (Item) -> ObjectKey) {
        var order = items.indices.map { index in
            let prefix = key(items[index]).prefix
            return (high: prefix.high, low: prefix.low, index: index)
        }
        order.sort { left, right in
            if left.high != right.high { return left.high < right.high }
            if left.low != right.low { return left.low < right.low }
            return key(items[left.index]) < key(items[right.index])
        }
        // Place `position` takes the item at `order[position].index`; a place done points at itself.
        var source = order.map(\.index)
        for start in source.indices where source[start] != start {
            var position = start
            while source[position] != start {
                let next = source[position]
                items.swapAt(position, next)
                source[position] = position
                position = next
            }
            source[position] = position
        }
    }

    /// The first 16 bytes, zero-padded, as two big-endian integers. Where two keys' prefixes differ
    /// they order the keys as their bytes do: at the first byte they differ in, either both are the
    /// keys' own, or the padded one is the shorter key, a prefix of the other.
    private var prefix: (high: UInt64, low: UInt64) {
        var words: (UInt64, UInt64) = (0, 0)
        bytes.withUnsafeBytes { key in
            withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: key.prefix(16))) }
        }
        return (UInt64(bigEndian: words.0), UInt64(bigEndian: words.1))
    }

    /// `memcmp` of the common prefix.
    private static func compare(_ left: [UInt8], _ right: [UInt8]) -> Int32 {
        let length = min(left.count, right.count)
        guard length > 0 else { return 0 }
        return left.withUnsafeBytes { left in right.withUnsafeBytes { right in memcmp(left.baseAddress!, right.baseAddress!, length) } }
    }
}
