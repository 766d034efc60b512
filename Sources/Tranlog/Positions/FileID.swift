/// The number of a tranlog file: `FileID(12)` is `tranlog12.dbf`. File ids increase by one at every
/// rotation, so a gap in the numbers is a missing log.
public struct FileID: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public static let first = FileID(1)

    public var next: FileID { FileID(rawValue + 1) }

    /// `tranlog12.dbf`: the same spelling in file names, event ids, logs and messages.
    public var fileName: String { "tranlog\(rawValue).dbf" }

    /// Parses `tranlog12.dbf` or its archived form `tranlog12.dbf.gz`; nil for any other name.
    public init?(fileName: String) {
        var name = Substring(fileName)
        if name.hasSuffix(".gz") { name = name.dropLast(3) }
        guard name.hasPrefix("tranlog"), name.hasSuffix(".dbf") else { return nil }
        let digits = name.dropFirst("tranlog".count).dropLast(".dbf".count)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
            digits.first != "0" || digits.count == 1,
            let value = UInt64(digits)
        else { return nil }
        self.rawValue = value
    }

    public static func < (lhs: FileID, rhs: FileID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}
