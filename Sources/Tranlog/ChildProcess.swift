import CSpawn
import Foundation
import SystemPackage

/// A child process started with glibc's `posix_spawn`, and reaped by a thread of its own.
///
/// Foundation's `Process.run()` is not used anywhere: on this toolchain it lists `/proc/self/fd` by
/// copying 256 bytes out of each directory entry, and reading past the end of glibc's buffer
/// crashed a test process in `memcpy` (docs/DECISIONS.md). The node runs archive commands the
/// same way, so the crash would have taken a primary down. Here the child closes every descriptor
/// above standard error before it starts, whatever flags they were opened with.
package final class ChildProcess: @unchecked Sendable {
    /// Where one of the child's standard streams goes.
    package enum Stream: Sendable {
        case inherit
        case null
        /// Created if missing; truncated unless `append`.
        case file(FilePath, append: Bool = false)
        /// A pipe whose other end is `standardOutput`/`standardError` (or `standardInput`).
        case pipe
    }

    /// How the child ended.
    package enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case killed(signal: Int32)
        /// Someone else reaped the child (nothing in this program does); its status is lost.
        case unknown

        package var succeeded: Bool { self == .exited(0) }

        package var description: String {
            switch self {
            case .exited(let status): "exit status \(status)"
            case .killed(let signal): "killed by signal \(signal)"
            case .unknown: "ended with an unknown status"
            }
        }
    }

    package let pid: pid_t
    /// The parent's ends of the `.pipe` streams; the caller reads (or writes) and closes them.
    package let standardInput: FileDescriptor?
    package let standardOutput: FileDescriptor?
    package let standardError: FileDescriptor?

    private let exited = NSCondition()
    private var ended: Termination?

    /// Starts `executable`: a path (a relative one is found from `workingDirectory`, where the
    /// child starts), or a name looked up in `PATH`. `environment` nil inherits this process's.
    /// `onExit` runs on the reaping thread once the child has ended, after the waiters were
    /// released (`termination` is set when it runs; a wait may return before it has run).
    package init(
        _ executable: String, _ arguments: [String], workingDirectory: FilePath? = nil,
        environment: [String: String]? = nil, standardInput: Stream = .null, standardOutput: Stream = .inherit,
        standardError: Stream = .inherit, onExit: (@Sendable (Termination) -> Void)? = nil
    ) throws(ChildProcessError) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var parentEnds: [FileDescriptor?] = []
        var childEnds: [FileDescriptor] = []
        defer { for end in childEnds { Self.close(end) } }
        do {
            for (number, stream) in [standardInput, standardOutput, standardError].enumerated() {
                let pipe = try Self.add(stream, as: Int32(number), to: &actions, executable: executable)
                parentEnds.append(pipe?.parent)
                if let child = pipe?.child { childEnds.append(child) }
            }
        } catch {
            for case let end? in parentEnds { Self.close(end) }
            throw error
        }
        if let workingDirectory { posix_spawn_file_actions_addchdir_np(&actions, workingDirectory.string) }
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        // Signals this process ignores (a node ignores SIGTERM to catch it) stay ignored across
        // exec; the child starts with every signal at its default and none blocked.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t(), none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            for argument in argv { free(argument) }
            for variable in envp ?? [] { free(variable) }
        }
        var pid: pid_t = 0
        let failed = envp.map { posix_spawnp(&pid, executable, &actions, &attributes, argv, $0) }
            ?? posix_spawnp(&pid, executable, &actions, &attributes, argv, environ)
        guard failed == 0 else {
            for case let end? in parentEnds { Self.close(end) }
            throw ChildProcessError(executable: executable, step: Self.spawnStep(failed, workingDirectory), errno: failed)
        }
        let spawned = pid
        self.pid = spawned
        (self.standardInput, self.standardOutput, self.standardError) = (parentEnds[0], parentEnds[1], parentEnds[2])
        Thread.start(named: "reap \(spawned)") { [self] in
            let termination = Self.reap(spawned)
            exited.locked { ended = termination; exited.broadcast() }
            onExit?(termination)
        }
    }

    /// nil while the child runs.
    package var termination: Termination? { exited.locked { ended } }

    package var isRunning: Bool { termination == nil }

    /// Blocks until the child has ended.
    package func waitForExit() -> Termination {
        exited.locked {
            while ended == nil { exited.wait() }
            return ended!
        }
    }

    /// Blocks until the child has ended, or `seconds` have passed (nil).
    package func waitForExit(seconds: Double) -> Termination? {
        let deadline = Date().addingTimeInterval(seconds)
        return exited.locked {
            while ended == nil, exited.wait(until: deadline) {}
            return ended
        }
    }

    /// Sends `signal` unless the child has already been reaped (its pid may then be another's).
    package func send(_ signal: Int32) {
        exited.locked { if ended == nil { _ = kill(pid, signal) } }
    }

    /// Runs a child to its end with its output and error streams captured, and `input`, if any,
    /// written to its standard input from a thread of its own (the child may write before it reads).
    package static func run(
        _ executable: String, _ arguments: [String], workingDirectory: FilePath? = nil,
        environment: [String: String]? = nil, input: [UInt8]? = nil
    ) throws(ChildProcessError) -> Finished {
        let child = try ChildProcess(
            executable, arguments, workingDirectory: workingDirectory, environment: environment,
            standardInput: input == nil ? .null : .pipe, standardOutput: .pipe, standardError: .pipe)
        if let input, let writeEnd = child.standardInput {
            Thread.start(named: "child input") {
                // A child that exits without reading it all makes the write fail (EPIPE), which
                // is nothing to keep; SIGPIPE is blocked on this thread so that it does not end a
                // process that has not ignored it.
                var pipeSignal = sigset_t()
                sigemptyset(&pipeSignal)
                sigaddset(&pipeSignal, SIGPIPE)
                pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
                _ = try? writeEnd.writeAll(input)
                close(writeEnd)
            }
        }
        let (output, errors) = readToEnd(child.standardOutput!, child.standardError!)
        return Finished(termination: child.waitForExit(), output: output, errors: errors)
    }

    /// A finished child's termination and what it wrote.
    package struct Finished: Sendable {
        package var termination: Termination
        package var output: [UInt8]
        package var errors: [UInt8]
    }

    /// Reads two pipes to their ends together (either may fill while the other is read), and
    /// closes them.
    package static func readToEnd(_ first: FileDescriptor, _ second: FileDescriptor) -> ([UInt8], [UInt8]) {
        var contents: [[UInt8]] = [[], []]
        var open = [first, second].map { pollfd(fd: $0.rawValue, events: Int16(POLLIN), revents: 0) }
        while open.contains(where: { $0.fd >= 0 }) {
            if poll(&open, nfds_t(open.count), -1) < 0 {
                // Interrupted, the events are stale: poll again.
                if errno == EINTR { continue }
                break
            }
            for index in open.indices where open[index].fd >= 0 && open[index].revents != 0 {
                let descriptor = FileDescriptor(rawValue: open[index].fd)
                if readSome(descriptor, into: &contents[index]) == 0 { open[index].fd = -1 }
            }
        }
        close(first)
        close(second)
        return (contents[0], contents[1])
    }

    /// Reads one pipe to its end and closes it.
    package static func readToEnd(_ descriptor: FileDescriptor) -> [UInt8] {
        var contents: [UInt8] = []
        while readSome(descriptor, into: &contents) > 0 {}
        close(descriptor)
        return contents
    }

    /// Appends what one `read` returns; 0 at the end. A pipe's read fails only on a descriptor
    /// that is not one, which ends the reading as well.
    private static func readSome(_ descriptor: FileDescriptor, into contents: inout [UInt8]) -> Int {
        do { return try descriptor.readSome(into: &contents) } catch { return 0 }
    }

    /// Closing a pipe's end cannot fail in a way the caller could act on.
    private static func close(_ descriptor: FileDescriptor) {
        _ = Glibc.close(descriptor.rawValue)
    }

    private static func add(
        _ stream: Stream, as number: Int32, to actions: inout posix_spawn_file_actions_t, executable: String
    ) throws(ChildProcessError) -> (parent: FileDescriptor, child: FileDescriptor)? {
        switch stream {
        case .inherit:
            return nil
        case .null:
            posix_spawn_file_actions_addopen(&actions, number, "/dev/null", number == 0 ? O_RDONLY : O_WRONLY, 0)
            return nil
        case .file(let path, let append):
            let flags = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
            posix_spawn_file_actions_addopen(&actions, number, path.string, flags, 0o644)
            return nil
        case .pipe:
            // Close-on-exec: a child started elsewhere at this moment must not hold an end open.
            var ends: [Int32] = [-1, -1]
            guard pipe2(&ends, O_CLOEXEC) == 0 else {
                throw ChildProcessError(executable: executable, step: "pipe2", errno: errno)
            }
            let (read, write) = (FileDescriptor(rawValue: ends[0]), FileDescriptor(rawValue: ends[1]))
            posix_spawn_file_actions_adddup2(&actions, number == 0 ? read.rawValue : write.rawValue, number)
            return number == 0 ? (parent: write, child: read) : (parent: read, child: write)
        }
    }

    /// posix_spawn reports a missing working directory with the same ENOENT as a missing
    /// executable: say which it was.
    private static func spawnStep(_ failed: Int32, _ workingDirectory: FilePath?) -> String {
        guard failed == ENOENT, let workingDirectory, !FileManager.default.fileExists(atPath: workingDirectory.string) else {
            return "posix_spawn"
        }
        return "posix_spawn (working directory \(workingDirectory))"
    }

    /// `waitpid` for the one child, through interruptions.
    private static func reap(_ pid: pid_t) -> Termination {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { return .unknown }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift does not import.
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .killed(signal: signal)
    }
}

/// A child process that could not be started.
package struct ChildProcessError: Error, CustomStringConvertible {
    package let executable: String
    package let step: String
    package let errno: Int32

    package var description: String {
        "cannot start \(executable): \(step) failed: \(String(cString: strerror(errno)))"
    }
}
