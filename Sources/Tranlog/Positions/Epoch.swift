/// A numbered stretch of the repository's history. `init` starts epoch 1; every commitRestore (a
/// restore committed, a standby promoted) opens the next one.
public struct Epoch: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// The parent of the first epoch.
    public static let none = Epoch(0)
    public static let first = Epoch(1)

    public var next: Epoch { Epoch(rawValue + 1) }

    public static func < (lhs: Epoch, rhs: Epoch) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}
