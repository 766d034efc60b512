import Foundation
import Synchronization
import SystemPackage
import Testing
@testable import Tranlog

@Suite("Child processes: started with posix_spawn, reaped by their own thread")
struct ChildProcessTests {
    @Test func outputErrorsAndExitStatusAreCaptured() throws {
        let finished = try ChildProcess.run("/bin/sh", ["-c", "printf out; printf err >&2; exit 3"])
        #expect(finished.termination == .exited(3))
        #expect(!finished.termination.succeeded)
        #expect(String(decoding: finished.output, as: UTF8.self) == "out")
        #expect(String(decoding: finished.errors, as: UTF8.self) == "err")
    }

    /// Both pipes fill beyond what a pipe holds (64 KiB): read one after the other, the child
    /// would block on the second and never end.
    @Test func twoFullPipesAreReadTogether() throws {
        let finished = try ChildProcess.run("/bin/sh", ["-c", "head -c 300000 /dev/zero >&2; head -c 200000 /dev/zero"])
        #expect(finished.termination == .exited(0))
        #expect(finished.output.count == 200_000)
        #expect(finished.errors.count == 300_000)
    }

    @Test func aSignalledChildIsReportedAsKilled() throws {
        let finished = try ChildProcess.run("/bin/sh", ["-c", "kill -9 $$"])
        #expect(finished.termination == .killed(signal: SIGKILL))
        #expect(finished.termination.description == "killed by signal 9")
    }

    @Test func workingDirectoryAndEnvironmentAreTheChildsOwn() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let finished = try ChildProcess.run(
            "/bin/sh", ["-c", "pwd; echo \"$ONLY_HERE\"; echo \"${HOME-unset}\""],
            workingDirectory: FilePath(directory.path), environment: ["ONLY_HERE": "yes"])
        let lines = String(decoding: finished.output, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines == [directory.resolvingSymlinksInPath().path, "yes", "unset"])
    }

    /// A descriptor opened without close-on-exec (as a library may open one) does not reach the
    /// child: an archive command must not hold the node's files or sockets open.
    @Test func descriptorsAboveStandardErrorAreNotInherited() throws {
        let leaky = open("/dev/null", O_RDONLY)
        try #require(leaky > 2)
        defer { close(leaky) }
        #expect(fcntl(leaky, F_GETFD) & FD_CLOEXEC == 0)
        let finished = try ChildProcess.run("/bin/sh", ["-c", "test -e /dev/fd/\(leaky)"])
        #expect(finished.termination == .exited(1), "descriptor \(leaky) reached the child")
    }

    /// A node ignores SIGTERM and SIGINT to catch them; its archive commands must not. Here
    /// SIGUSR2 stands in: the tests share one process, and nothing else uses that signal.
    @Test func signalsIgnoredHereAreAtTheirDefaultInTheChild() throws {
        let previous = signal(SIGUSR2, SIG_IGN)
        defer { signal(SIGUSR2, previous) }
        let finished = try ChildProcess.run("/bin/grep", ["^SigIgn:", "/proc/self/status"])
        let field = String(decoding: finished.output, as: UTF8.self).split(separator: "\t").last
        let ignored = try #require(field.flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines), radix: 16) })
        // Bit n - 1 is signal n. Signals 32 and 33 are glibc's own, which posix_spawn leaves alone.
        #expect(ignored & 0x7fff_ffff == 0, "the child ignores signals \(String(ignored, radix: 16))")
    }

    @Test func aRunningChildIsWaitedForWithADeadlineAndSignalled() throws {
        let reported = Mutex<ChildProcess.Termination?>(nil)
        let called = DispatchSemaphore(value: 0)
        let child = try ChildProcess("/bin/sleep", ["60"], onExit: { termination in
            // The termination is already visible to the callback.
            reported.withLock { $0 = termination }
            called.signal()
        })
        #expect(child.waitForExit(seconds: 0.05) == nil)
        #expect(child.isRunning)
        child.send(SIGKILL)
        #expect(child.waitForExit() == .killed(signal: SIGKILL))
        #expect(child.termination == .killed(signal: SIGKILL))
        #expect(child.waitForExit(seconds: 0) == .killed(signal: SIGKILL))
        // The callback runs after the waiters were released: awaited, not assumed.
        #expect(called.wait(timeout: .now() + 30) == .success)
        #expect(reported.withLock { $0 } == .killed(signal: SIGKILL))
    }

    @Test func outputGoesToAFileAppendedOrReplaced() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        for (text, append) in [("one", false), ("two", true)] {
            let child = try ChildProcess("/bin/echo", [text], standardOutput: .file(FilePath(path), append: append))
            #expect(child.waitForExit() == .exited(0))
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "one\ntwo\n")
        let replaced = try ChildProcess("/bin/echo", ["three"], standardOutput: .file(FilePath(path)))
        #expect(replaced.waitForExit() == .exited(0))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "three\n")
    }

    @Test func aMissingExecutableIsNamedInTheError() {
        #expect {
            try ChildProcess("/nonexistent/tool", [])
        } throws: { error in
            let refused = error as? ChildProcessError
            return refused?.errno == ENOENT && "\(error)".contains("/nonexistent/tool")
        }
    }

    @Test func aMissingWorkingDirectoryIsNamedInTheError() {
        #expect {
            try ChildProcess("/bin/true", [], workingDirectory: FilePath("/nonexistent/place"))
        } throws: { error in
            "\(error)".contains("working directory /nonexistent/place")
        }
    }

    /// The input's writer thread must not raise SIGPIPE when the child exits without reading: in
    /// a process that has not ignored the signal, it would end the process (a fresh one, with the
    /// signal's default action restored: the test runner may ignore it, and children inherit that).
    @Test func aChildThatDoesNotReadItsInputDoesNotEndTheProcess() async {
        await #expect(processExitsWith: .success) {
            signal(SIGPIPE, SIG_DFL)
            let finished = try ChildProcess.run("/bin/true", [], input: [UInt8](repeating: 7, count: 1 << 20))
            exit(finished.termination == .exited(0) ? 0 : 1)
        }
    }

    @Test func standardInputIsAPipeTheParentWrites() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let child = try ChildProcess("/bin/cat", [], standardInput: .pipe, standardOutput: .file(FilePath(path)))
        let input = try #require(child.standardInput)
        _ = try input.writeAll("fed through a pipe".utf8)
        try input.close()
        #expect(child.waitForExit() == .exited(0))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "fed through a pipe")
    }
}
