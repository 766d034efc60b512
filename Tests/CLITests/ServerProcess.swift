import Foundation
import Testing

/// A long-running `understudy` verb (`start`, `standby`) as a real process: its ready line's
/// `name=value` fields, its log in a file. Killed in `cleanUp` whatever the test did.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let logURL: URL
    private(set) var fields: [String: String] = [:]
    private let output = NSCondition()
    private var stdout = ""
    private let exited = DispatchSemaphore(value: 0)

    /// `environment` is added to the test's; with `awaitReady` false, call `awaitReady()` later.
    /// `mayBeRefused`: a node that exits instead of serving is an outcome, not a failure (`refused`).
    init(_ arguments: [String], in directory: URL, environment: [String: String] = [:], awaitReady: Bool = true,
         mayBeRefused: Bool = false) throws {
        let binary = try #require(CLIProcess.binary, "understudy not found next to the test bundle")
        process.executableURL = binary
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        logURL = directory.appendingPathComponent("node-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: logURL)
        let pipe = Pipe()
        process.standardOutput = pipe
        // A thread of its own reads stdout to its end, rather than a `readabilityHandler`: that one's
        // dispatch source can still fire while the handle is being released at EOF, which crashed the
        // test process (inside libdispatch) once suites started and stopped many nodes.
        let reading = pipe.fileHandleForReading
        Thread.detachNewThread { [output] in
            while true {
                let chunk = reading.availableData
                output.lock()
                self.stdout += String(decoding: chunk, as: UTF8.self)
                output.broadcast()
                output.unlock()
                if chunk.isEmpty { return }
            }
        }
        process.terminationHandler = { [exited, output] _ in
            exited.signal()
            // Wakes a wait for the ready line: a node that exits instead prints none.
            output.lock()
            output.broadcast()
            output.unlock()
        }
        try process.run()
        if awaitReady { fields = try readyFields(mayBeRefused: mayBeRefused) }
    }

    /// Waits for the ready line of a process started with `awaitReady: false`.
    func awaitReady() throws {
        fields = try readyFields(mayBeRefused: false)
    }

    /// The node exited without serving (only with `mayBeRefused`); its reason is in `log`.
    var refused: Bool { fields.isEmpty }

    var url: String { "http://\(fields["http"] ?? "")" }
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    private func readyFields(mayBeRefused: Bool) throws -> [String: String] {
        let deadline = Date().addingTimeInterval(30)
        output.lock()
        defer { output.unlock() }
        while !stdout.contains("\n") && process.isRunning && output.wait(until: deadline) {}
        let line = stdout.split(separator: "\n").first.map(String.init) ?? ""
        if mayBeRefused, !line.contains(" ready: "), !process.isRunning {
            exited.wait()
            return [:]
        }
        try #require(line.contains(" ready: "), "no ready line; stdout '\(stdout)', log:\n\(log)")
        let pairs = line.split(separator: " ").compactMap { word -> (String, String)? in
            let parts = word.split(separator: "=", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }
        return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }

    @discardableResult
    func stop(with signal: Int32) -> Int32 {
        kill(process.processIdentifier, signal)
        guard exited.wait(timeout: .now() + CLIProcess.deadline) == .success else {
            Issue.record("the node did not exit on signal \(signal)")
            kill(process.processIdentifier, SIGKILL)
            exited.wait()
            return -1
        }
        return process.terminationStatus
    }

    func cleanUp() {
        if process.isRunning { stop(with: SIGKILL) }
    }
}

extension ServerProcess {
    /// `understudy start --data DATA --http 127.0.0.1:0` plus `extraArguments`.
    convenience init(data: URL, in directory: URL, extraArguments: [String] = []) throws {
        try self.init(["start", "--data", data.path, "--http", "127.0.0.1:0"] + extraArguments, in: directory)
    }
}
