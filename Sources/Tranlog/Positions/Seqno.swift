/// The position of a record in the repository's whole life: every record (a commit, a checkpoint, an
/// epoch change, a file rotation…) takes the next seqno, across files and across epochs. Seqno 0 means
/// "nothing yet"; the first record of a repository is seqno 1.
///
/// Seqnos of one history compare directly. Whether two positions lie on the same history is a question
/// for `EpochHistory`, never for `<` on seqnos alone.
public struct Seqno: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public static let zero = Seqno(0)

    public var next: Seqno { Seqno(rawValue + 1) }

    /// Records from `self` (exclusive) up to `later` (inclusive); 0 when `later` is not ahead.
    public func distance(to later: Seqno) -> UInt64 {
        later.rawValue > rawValue ? later.rawValue - rawValue : 0
    }

    public static func < (lhs: Seqno, rhs: Seqno) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}
