import Foundation
import SystemPackage
import Testing
import Tranlog

/// Runs the built `understudy` binary as a real process, with a deadline on every run.
enum CLIProcess {
    struct Result {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// A run that takes longer than this is a hang: it is killed and the test fails.
    static let deadline: TimeInterval = 120

    /// `understudy` sits in the products directory beside the test bundle; `UNDERSTUDY_BINARY`
    /// overrides that for unusual layouts.
    static let binary: URL? = {
        if let override = ProcessInfo.processInfo.environment["UNDERSTUDY_BINARY"] { return URL(fileURLWithPath: override) }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.pathComponents.count > 1 {
            let candidate = directory.appendingPathComponent("understudy")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }()

    /// Runs `understudy arguments…` in `workingDirectory`.
    static func run(_ arguments: [String], in workingDirectory: URL) throws -> Result {
        try run(#require(binary, "understudy not found next to the test bundle: build the whole package first"), arguments, in: workingDirectory)
    }

    /// Runs `executable arguments…` in `workingDirectory`. Output goes to files, not pipes, so a
    /// chatty process can never block on a full pipe while the deadline is kept.
    static func run(_ executable: URL, _ arguments: [String], in workingDirectory: URL) throws -> Result {
        let stdoutURL = workingDirectory.appendingPathComponent("stdout-\(UUID().uuidString)")
        let stderrURL = workingDirectory.appendingPathComponent("stderr-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: stdoutURL)
            try? FileManager.default.removeItem(at: stderrURL)
        }
        let process = try ChildProcess(
            executable.path, arguments, workingDirectory: FilePath(workingDirectory.path),
            standardOutput: .file(FilePath(stdoutURL.path)), standardError: .file(FilePath(stderrURL.path)))
        if process.waitForExit(seconds: deadline) == nil {
            process.send(SIGTERM)
            Issue.record("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) did not finish within \(deadline) s")
        }
        return Result(
            status: process.waitForExit().status,
            standardOutput: try String(contentsOf: stdoutURL, encoding: .utf8),
            standardError: try String(contentsOf: stderrURL, encoding: .utf8))
    }
}

extension ChildProcess.Termination {
    /// The exit status, or the signal that ended the process (as the tests compare them).
    var status: Int32 {
        switch self {
        case .exited(let status): status
        case .killed(let signal): signal
        case .unknown: -1
        }
    }
}

/// A fresh directory for one test, removed however the test ends.
func withTemporaryDirectory<Value>(_ body: (URL) throws -> Value) throws -> Value {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("understudy-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}

/// The value of an aligned `label: value` line, as `inspect`, `verify` and `generate` print them.
func field(_ label: String, in output: String) -> String? {
    for line in output.split(separator: "\n") where line.hasPrefix(label + ":") {
        return line.dropFirst(label.count + 1).trimmingCharacters(in: .whitespaces)
    }
    return nil
}
