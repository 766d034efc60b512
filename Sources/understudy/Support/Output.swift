import Foundation
import Node
import SystemPackage

/// A failure the CLI explains itself (bad input, a record that is not there). ArgumentParser prints
/// its description after "Error: " on stderr and exits with status 1; `TranlogError`s travel the
/// same way, so every failure reads as one precise sentence and never as a Swift error dump.
struct CommandError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}

/// Writes one line to stderr: notes and warnings must not mix with output meant for pipes.
func printToStandardError(_ line: String) {
    writeToStandardError(Array((line + "\n").utf8))
}

/// Writes to stdout. Foundation's `FileHandle.write` ends the process with a fatal error and a
/// backtrace when a write fails: `status --watch | head` did, once `head` had its lines (the CLI
/// ignores SIGPIPE, for its sockets' sake). A reader that went away ends the command quietly with
/// the status SIGPIPE gives other tools; any other failure (a full disk under `get KEY > FILE`) is
/// reported and ends it with status 1.
func writeToStandardOutput(_ bytes: [UInt8]) {
    do {
        _ = try FileDescriptor.standardOutput.writeAll(bytes)
    } catch Errno.brokenPipe {
        exit(128 + SIGPIPE)
    } catch {
        printToStandardError("Error: cannot write to standard output: \(error)")
        exit(1)
    }
}

/// Writes to stderr; nothing is left to report a failure to, but a reader that went away still
/// ends the command as it would stdout's.
func writeToStandardError(_ bytes: [UInt8]) {
    do {
        _ = try FileDescriptor.standardError.writeAll(bytes)
    } catch Errno.brokenPipe {
        exit(128 + SIGPIPE)
    } catch {}
}

/// A duration for a person: "0.42 ms", "6.4 ms", "1.25 s" (`--json` keeps the exact figure).
func humanMilliseconds(_ milliseconds: Double) -> String {
    switch milliseconds {
    case ..<1: String(format: "%.2f ms", milliseconds)
    case ..<1000: String(format: "%.1f ms", milliseconds)
    default: String(format: "%.2f s", milliseconds / 1000)
    }
}

/// Prints `label: value` lines with the values aligned, as `copydbf -i` lays out a file's facts.
func printFields(_ fields: KeyValuePairs<String, String>) {
    let width = fields.map(\.key.count).max() ?? 0
    for (label, value) in fields {
        print(label + ":" + String(repeating: " ", count: width - label.count + 1) + value)
    }
}

/// One JSON object on one line (JSON Lines), keys sorted so output is stable across runs.
func jsonLine(_ value: some Encodable) throws -> String {
    try json(value, formatting: [.sortedKeys, .withoutEscapingSlashes])
}

/// A whole JSON document, indented for reading.
func jsonDocument(_ value: some Encodable) throws -> String {
    try json(value, formatting: [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted])
}

private func json(_ value: some Encodable, formatting: JSONEncoder.OutputFormatting) throws -> String {
    String(decoding: try APIJSON.encoder(formatting).encode(value), as: UTF8.self)
}

/// A key as an operator can read it: the text itself when it is printable ASCII, else `0x` and hex.
/// Printable keys that themselves start with "0x" are shown in hex too, so the two never collide.
func renderKey(_ bytes: [UInt8]) -> String {
    let printable = bytes.allSatisfy { (0x21...0x7E).contains($0) }
    if printable, !bytes.starts(with: Array("0x".utf8)) { return String(decoding: bytes, as: UTF8.self) }
    return "0x" + bytes.map { String(format: "%02x", $0) }.joined()
}

/// `tranlog1.dbf … tranlog5.dbf`: a run of files named by its ends.
func fileRange(_ names: [String]) -> String {
    guard let first = names.first, let last = names.last else { return "none" }
    return first == last ? first : "\(first) … \(last)"
}
