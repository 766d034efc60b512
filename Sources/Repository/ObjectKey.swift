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

    /// `memcmp` of the common prefix.
    private static func compare(_ left: [UInt8], _ right: [UInt8]) -> Int32 {
        let length = min(left.count, right.count)
        guard length > 0 else { return 0 }
        return left.withUnsafeBytes { left in right.withUnsafeBytes { right in memcmp(left.baseAddress!, right.baseAddress!, length) } }
    }
}
