import Foundation
import Tranlog

/// The JSON the HTTP API answers and the CLI prints with `--json`: points in time as RFC 3339 UTC
/// strings with microseconds (`Timestamp.rfc3339CodingKey`); durations are numbers in fields named
/// with their unit. Files on disk keep their own encoders, hence integer microseconds.
public enum APIJSON {
    public static func encoder(_ formatting: JSONEncoder.OutputFormatting = [.sortedKeys, .withoutEscapingSlashes]) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = formatting
        encoder.userInfo[Timestamp.rfc3339CodingKey] = true
        return encoder
    }
}
