/// Percent-encoding of keys in paths and query strings (RFC 3986). The HTTP server leaves both
/// encoded, so `/objects/a%2Fb` names the key `a/b` and any byte can travel in a path.
enum PercentEncoding {
    /// The bytes `text` encodes, or nil for a malformed escape. In query strings `+` is a space.
    static func decode(_ text: Substring, plusIsSpace: Bool = false) -> [UInt8]? {
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let byte = input.popFirst() {
            switch byte {
            case UInt8(ascii: "%"):
                guard input.count >= 2, let high = Hex.value(of: input.removeFirst()), let low = Hex.value(of: input.removeFirst())
                else { return nil }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        return bytes
    }

    /// Every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`) escaped: safe in a path segment and
    /// a query value alike.
    static func encode(_ bytes: [UInt8]) -> String {
        var text = ""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                text += "%" + Hex.encode([byte]).uppercased()
            }
        }
        return text
    }
}

/// The parameters of a query string, decoded; only the names a route accepts are allowed, so a
/// misspelt parameter is an error rather than silently ignored.
struct QueryParameters {
    private var values: [String: [UInt8]] = [:]

    init(_ query: String?, allowed: Set<String>) throws(APIError) {
        guard let query, !query.isEmpty else { return }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let nameBytes = PercentEncoding.decode(parts[0], plusIsSpace: true),
                  let value = PercentEncoding.decode(parts.count > 1 ? parts[1] : "", plusIsSpace: true)
            else { throw .badRequest("invalid query", "malformed percent-encoding in '\(pair)'") }
            let name = String(decoding: nameBytes, as: UTF8.self)
            guard allowed.contains(name) else {
                throw .badRequest("invalid query", "unknown parameter '\(name)'; accepted: \(allowed.sorted().joined(separator: ", "))")
            }
            values[name] = value
        }
    }

    subscript(name: String) -> [UInt8]? { values[name] }
}
