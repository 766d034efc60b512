/// Header fields in arrival order; names compare case-insensitively, as HTTP requires.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public private(set) var fields: [Field] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { add(name: name, value: value) }
    }

    /// The first value of `name`, if present.
    public subscript(name: String) -> String? {
        fields.first { Self.sameName($0.name, name) }?.value
    }

    public mutating func add(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    public mutating func remove(name: String) {
        fields.removeAll { Self.sameName($0.name, name) }
    }

    public func makeIterator() -> IndexingIterator<[Field]> {
        fields.makeIterator()
    }

    /// Appends the fields as `Name: value\r\n` lines, leaving out `excluded` (the names the sender
    /// writes itself). CR or LF in a field would let a value inject headers: a programmer error.
    func appendWireLines(to wire: inout [UInt8], excluding excluded: [String]) {
        for field in fields where !excluded.contains(where: { Self.sameName($0, field.name) }) {
            precondition(!field.name.utf8.contains(where: Self.isLineBreak) && !field.value.utf8.contains(where: Self.isLineBreak),
                         "CR/LF in header \(field.name)")
            wire += field.name.utf8
            wire += ": ".utf8
            wire += field.value.utf8
            wire += "\r\n".utf8
        }
    }

    /// Header names are ASCII tokens and compare without case. Compared byte by byte: this runs for
    /// every header of every request, and lowercasing both names would build two strings each time.
    static func sameName(_ one: String, _ other: String) -> Bool {
        one.utf8.count == other.utf8.count && zip(one.utf8, other.utf8).allSatisfy { asciiLowercased($0) == asciiLowercased($1) }
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    private static func isLineBreak(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
    }
}
