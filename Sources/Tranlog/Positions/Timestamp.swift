import Foundation

/// A commit time: microseconds since the Unix epoch on the producing node's clock.
public struct Timestamp: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: Int64

    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(microsecondsSinceEpoch: Int64) { self.rawValue = microsecondsSinceEpoch }

    public var microsecondsSinceEpoch: Int64 { rawValue }

    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(microsecondsSinceEpoch: Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1_000)
    }

    public var date: Date { Date(timeIntervalSince1970: Double(rawValue) / 1_000_000) }

    public init(date: Date) {
        self.rawValue = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// Parses ISO 8601 with or without fractional seconds (`2026-11-22T03:12:58Z`,
    /// `2026-11-22T03:12:58.123456+01:00`). Fractions are kept to the microsecond.
    public init?(iso8601 text: String) {
        guard let parsed = Timestamp.parse(text) else { return nil }
        self = parsed
    }

    /// `2026-11-22T03:12:58.123456Z`: UTC, microsecond precision, sortable as text.
    public var iso8601: String {
        let seconds = rawValue >= 0 ? rawValue / 1_000_000 : (rawValue - 999_999) / 1_000_000
        let micros = rawValue - seconds * 1_000_000
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(micros))
    }

    public var description: String { iso8601 }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Set to `true` in an encoder's `userInfo` to write timestamps as RFC 3339 strings (`iso8601`), as
    /// the HTTP API and the CLI's JSON do; without it they are integer microseconds, as files on disk
    /// hold them.
    public static let rfc3339CodingKey = CodingUserInfoKey(rawValue: "understudy.timestamp.rfc3339")!

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if encoder.userInfo[Self.rfc3339CodingKey] as? Bool == true {
            try container.encode(iso8601)
        } else {
            try container.encode(rawValue)
        }
    }

    /// Reads either form, whatever the decoder's `userInfo`: a reader need not know which writer it has.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        do {
            self.init(rawValue: try container.decode(Int64.self))
        } catch DecodingError.typeMismatch {
            let text = try container.decode(String.self)
            guard let parsed = Timestamp(iso8601: text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "'\(text)' is neither an RFC 3339 time nor integer microseconds since the epoch")
            }
            self = parsed
        }
    }

    private static func parse(_ text: String) -> Timestamp? {
        // Split off the fraction ourselves: ISO8601DateFormatter rounds to milliseconds.
        var whole = text
        var micros: Int64 = 0
        if let dot = text.firstIndex(of: ".") {
            let afterDot = text[text.index(after: dot)...]
            let digits = afterDot.prefix(while: { $0.isASCII && $0.isNumber })
            guard !digits.isEmpty else { return nil }
            let padded = (digits.prefix(6) + String(repeating: "0", count: max(0, 6 - digits.count)))
            micros = Int64(padded) ?? 0
            whole = String(text[..<dot]) + String(afterDot.dropFirst(digits.count))
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        guard let date = formatter.date(from: whole) else { return nil }
        return Timestamp(microsecondsSinceEpoch: Int64(date.timeIntervalSince1970) * 1_000_000 + micros)
    }
}

extension Duration {
    /// Seconds as a Double, for rates, lags and timings in status and logs.
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
