import ArgumentParser
import Repository
import Tranlog

/// Parsers for positions given on the command line, with messages that show the expected form.
enum ArgumentParsing {
    static func eventID(_ text: String) throws -> EventID {
        guard let eventID = EventID(text) else {
            throw ValidationError("'\(text)' is not an event id; write it as FILE:OFFSET, e.g. tranlog12.dbf:4096")
        }
        return eventID
    }

    static func timestamp(_ text: String) throws -> Timestamp {
        guard let time = Timestamp(iso8601: text) else {
            throw ValidationError(
                "'\(text)' is not an ISO 8601 time; write e.g. 2026-11-22T03:12:58Z or 2026-11-22T03:12:58.123456+01:00")
        }
        return time
    }

    static func sourceID(_ text: String) throws -> SourceID {
        guard let sourceID = SourceID(text) else {
            throw ValidationError("'\(text)' is not a valid source id (1–255 bytes, no control characters)")
        }
        return sourceID
    }

    static func recordCRC(_ text: String) throws -> UInt32 {
        guard let crc = CRCText.parse(text) else {
            throw ValidationError("'\(text)' is not a record CRC; copy it as `tranlog find` prints it, e.g. 0x1a2b3c4d")
        }
        return crc
    }

    /// A number of seconds above 0 (`--interval`, `--timeout`, `--poll-seconds`), checked here
    /// once: `inf` passed each option's own `> 0` check and then ended the process when it became
    /// an integer count of milliseconds.
    static func seconds(_ text: String) throws -> Double {
        try seconds(text, zeroAllowed: false)
    }

    /// A number of seconds, 0 or more (`--apply-delay`).
    static func secondsOrZero(_ text: String) throws -> Double {
        try seconds(text, zeroAllowed: true)
    }

    /// At most a century: any longer wait is a typo, and this keeps every conversion in range.
    static let mostSeconds = 100 * 365.25 * 86_400

    /// A whole number of seconds (`--checkpoint-seconds`, `--ttl`), at most a century.
    static func wholeSeconds(from least: Int) -> @Sendable (String) throws -> Int {
        integer(in: least...Int(mostSeconds), "seconds")
    }

    /// A whole number in `range` (sizes in KiB or MiB, counts). Out of range, a size once wrapped
    /// around when shifted into bytes, and a count of seconds overflowed a clock.
    static func integer(in range: ClosedRange<Int>, _ unit: String) -> @Sendable (String) throws -> Int {
        { text in
            guard let value = Int(text), range.contains(value) else {
                throw ValidationError("give a whole number of \(unit) from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
    }

    /// Seconds parsed above as a duration.
    static func duration(seconds: Double) -> Duration {
        .microseconds(Int64((seconds * 1e6).rounded()))
    }

    private static func seconds(_ text: String, zeroAllowed: Bool) throws -> Double {
        guard let seconds = Double(text), seconds.isFinite, zeroAllowed ? seconds >= 0 : seconds > 0, seconds <= mostSeconds else {
            throw ValidationError("give a number of seconds \(zeroAllowed ? "of 0 or more" : "above 0"), at most a century, e.g. 2.5")
        }
        return seconds
    }
}
