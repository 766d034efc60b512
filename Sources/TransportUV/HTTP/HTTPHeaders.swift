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
        let wanted = name.lowercased()
        return fields.first { $0.name.lowercased() == wanted }?.value
    }

    public mutating func add(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    public mutating func remove(name: String) {
        let unwanted = name.lowercased()
        fields.removeAll { $0.name.lowercased() == unwanted }
    }

    public func makeIterator() -> IndexingIterator<[Field]> {
        fields.makeIterator()
    }

    /// The fields as `Name: value\r\n` lines, leaving out `excluded` (lowercased names: those the
    /// sender writes itself). CR or LF in a field would let a value inject headers: a programmer error.
    func wireLines(excluding excluded: Set<String>) -> String {
        var lines = ""
        for field in fields where !excluded.contains(field.name.lowercased()) {
            precondition(!(field.name + field.value).contains { $0 == "\r" || $0 == "\n" }, "CR/LF in header \(field.name)")
            lines += "\(field.name): \(field.value)\r\n"
        }
        return lines
    }
}
