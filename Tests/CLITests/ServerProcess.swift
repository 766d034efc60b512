import Foundation
import SystemPackage
import Testing
import Tranlog

/// A long-running `understudy` verb (`start`, `standby`) as a real process: its ready line's
/// `name=value` fields, its log in a file. Killed in `cleanUp` whatever the test did.
final class ServerProcess: @unchecked Sendable {
    let process: ChildProcess
    let logURL: URL
    private(set) var fields: [String: String] = [:]
    private let output = NSCondition()
    private var stdout = ""

    /// `environment` is added to the test's; with `awaitReady` false, call `awaitReady()` later.
    /// `mayBeRefused`: a node that exits instead of serving is an outcome, not a failure (`refused`).
    init(_ arguments: [String], in directory: URL, environment: [String: String] = [:], awaitReady: Bool = true,
         mayBeRefused: Bool = false) throws {
        let binary = try #require(CLIProcess.binary, "understudy not found next to the test bundle")
        logURL = directory.appendingPathComponent("node-\(UUID().uuidString).log")
        process = try ChildProcess(
            binary.path, arguments,
            environment: environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 },
            standardOutput: .pipe, standardError: .file(FilePath(logURL.path)),
            onExit: { [output] _ in
                // Wakes a wait for the ready line: a node that exits instead prints none.
                output.lock()
                output.broadcast()
                output.unlock()
            })
        // A thread of its own reads stdout to its end, with blocking reads: a dispatch source on
        // the descriptor (Foundation's `readabilityHandler`) crashed libdispatch's event loop
        // (`_dispatch_event_loop_drain`) when many nodes started and exited at once.
        let pipe = process.standardOutput!
        Thread.start(named: "node stdout") { [output] in
            while true {
                var chunk: [UInt8] = []
                let count = (try? pipe.readSome(into: &chunk)) ?? 0
                output.lock()
                self.stdout += String(decoding: chunk, as: UTF8.self)
                output.broadcast()
                output.unlock()
                if count == 0 { try? pipe.close(); return }
            }
        }
        if awaitReady { fields = try readyFields(mayBeRefused: mayBeRefused) }
    }

    /// Waits for the ready line of a process started with `awaitReady: false`.
    func awaitReady() throws {
        fields = try readyFields(mayBeRefused: false)
    }

    /// The node exited without serving (only with `mayBeRefused`); its reason is in `log`.
    var refused: Bool { fields.isEmpty }

    /// The exit status, or the signal that ended the node; nil while it runs.
    var exitStatus: Int32? { process.termination?.status }

    var url: String { "http://\(fields["http"] ?? "")" }
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    private func readyFields(mayBeRefused: Bool) throws -> [String: String] {
        let deadline = Date().addingTimeInterval(30)
        output.lock()
        defer { output.unlock() }
        while !stdout.contains("\n") && process.isRunning && output.wait(until: deadline) {}
        let line = stdout.split(separator: "\n").first.map(String.init) ?? ""
        if mayBeRefused, !line.contains(" ready: "), !process.isRunning {
            return [:]
        }
        try #require(line.contains(" ready: "), "no ready line; stdout '\(stdout)', log:\n\(log)")
        let pairs = line.split(separator: " ").compactMap { word -> (String, String)? in
            let parts = word.split(separator: "=", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }
        return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }

    /// Sends `signal` and waits for the exit: the exit status, or the signal that ended the node.
    @discardableResult
    func stop(with signal: Int32) -> Int32 {
        process.send(signal)
        guard let ended = process.waitForExit(seconds: CLIProcess.deadline) else {
            Issue.record("the node did not exit on signal \(signal)")
            process.send(SIGKILL)
            return process.waitForExit().status
        }
        return ended.status
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
