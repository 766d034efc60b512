import SystemPackage
import Tranlog

/// Crashes an operation at every durable step it takes, one run per step, and hands each
/// power-lost disk to a check.
///
/// A durable step is a file sync, a directory sync or a rename on the `SimulatedFileSystem`
/// (`durableStepCount`). The harness first runs `setUp` and `operation` once without a crash and
/// counts the operation's steps, S. Then, for every n in 0...S, it builds a fresh file system, runs
/// `setUp` again, arms `crash(afterDurableStep:)` at n steps into the operation and runs it: the
/// world stops right after step n (every later file operation fails with EIO, so the operation
/// unwinds, failing or not as it likes); an operation that returns before its last counted step is
/// crashed as it returns. The disk as power loss leaves it (`crashed(seed:)`, a
/// seeded choice of what unsynced data and directory changes survive) goes to `check`, which
/// reopens whatever the operation works on and asserts what must hold at any crash point.
///
/// `setUp` must take the same durable steps every run (no background work racing it: no timers,
/// sequential commits), since step n is counted from where `setUp` left the counter.
///
///     let steps = try await CrashStepHarness(
///         name: "commitRestore",
///         // Builds the same state on each fresh disk: init, commits, restore mode, a restore.
///         setUp: { fileSystem in try await restoredRepository(on: fileSystem) },   // a class holding the repository
///         operation: { _, fixture in _ = try fixture.repository.commitRestore() },
///         check: { disk, fixture, crash in
///             _ = try? fixture.repository.close()   // the crashed process: its disk is gone
///             let reopened = try Repository(directory: DataDirectory(root), fileSystem: disk)
///             let status = reopened.status
///             #expect(status.restoring || status.epoch == Epoch(2), "\(crash)")
///             if crash.operationCompleted { #expect(status.epoch == Epoch(2), "\(crash)") }
///             try reopened.close()
///             _ = try verifyTranlogChain(DataDirectory(root).tranlogs, fileSystem: disk)
///         }
///     ).run()
///     print("commitRestore: crashed after each of its \(steps) durable steps")
///
/// `operation` releases what it holds (closing a repository that can no longer write is expected
/// to fail, and that failure is its own business); `check` gets the `CrashPoint` to name in its
/// assertions. An error thrown by `check` is rethrown as a `CrashStepFailure` naming the step and seed.
public struct CrashStepHarness<Fixture> {
    public let name: String
    public let seed: UInt64
    private let setUp: (SimulatedFileSystem) async throws -> Fixture
    private let operation: (SimulatedFileSystem, Fixture) async throws -> Void
    private let check: (SimulatedFileSystem, Fixture, CrashPoint) async throws -> Void

    /// `seed` defaults to the run's (`testSeed()`); `run()` prints it with how to replay it.
    public init(
        name: String, seed: UInt64 = testSeed(),
        setUp: @escaping (SimulatedFileSystem) async throws -> Fixture,
        operation: @escaping (SimulatedFileSystem, Fixture) async throws -> Void,
        check: @escaping (_ afterPowerLoss: SimulatedFileSystem, Fixture, CrashPoint) async throws -> Void
    ) {
        self.name = name
        self.seed = seed
        self.setUp = setUp
        self.operation = operation
        self.check = check
    }

    /// Runs the operation once per crash point; returns how many durable steps it takes.
    @discardableResult
    public func run() async throws -> Int {
        print("\(name) crash test: seed \(seed) (replay with UNDERSTUDY_SEED=\(seed))")
        let steps = try await countSteps()
        var random = SeededRandom(seed: seed)
        for step in 0...steps {
            let point = CrashPoint(name: name, step: step, of: steps, seed: seed, diskSeed: random.next())
            let fileSystem = SimulatedFileSystem()
            let fixture = try await setUp(fileSystem)
            fileSystem.crash(afterDurableStep: fileSystem.durableStepCount + step)
            var outcome: (any Error)?
            do { try await operation(fileSystem, fixture) } catch { outcome = error }
            if !fileSystem.hasCrashed {
                // Past the last step, a completed operation is the same crash point: the power goes
                // right after it returns. It can get there a step early when a durable step of the
                // node's own background threads fell inside the counted run (promote on a running
                // standby, rarely). Anywhere earlier a missing step means the count is wrong.
                guard step == steps, outcome == nil else {
                    throw CrashStepFailure(point: point, problem: "the world did not stop: the operation took fewer durable steps than counted (\(outcome.map { "it failed: \($0)" } ?? "it succeeded"))")
                }
                fileSystem.crash(afterDurableStep: fileSystem.durableStepCount)
            }
            do { try await check(fileSystem.crashed(seed: point.diskSeed), fixture, point.with(operationError: outcome)) } catch {
                throw CrashStepFailure(point: point, problem: "\(error)")
            }
        }
        return steps
    }

    /// The operation's durable steps, on a run that does not crash (and must succeed).
    private func countSteps() async throws -> Int {
        let fileSystem = SimulatedFileSystem()
        let fixture = try await setUp(fileSystem)
        let before = fileSystem.durableStepCount
        do { try await operation(fileSystem, fixture) } catch {
            throw CrashStepFailure(point: CrashPoint(name: name, step: 0, of: 0, seed: seed, diskSeed: 0), problem: "without a crash the operation failed: \(error)")
        }
        return fileSystem.durableStepCount - before
    }
}

/// Where a `CrashStepHarness` run stopped the world: after `step` of the operation's `of` durable
/// steps (0: before the first; `of`: after the last, the operation having returned).
public struct CrashPoint: Sendable, CustomStringConvertible {
    public let name: String
    public let step: Int
    public let of: Int
    public let seed: UInt64
    /// Seeds what the power loss keeps of unsynced data (derived from `seed`).
    public let diskSeed: UInt64
    /// What the operation threw when the world stopped (nil: it returned).
    public private(set) var operationError: (any Error & Sendable)?

    init(name: String, step: Int, of: Int, seed: UInt64, diskSeed: UInt64) {
        self.name = name
        self.step = step
        self.of = of
        self.seed = seed
        self.diskSeed = diskSeed
    }

    func with(operationError: (any Error)?) -> CrashPoint {
        var point = self
        point.operationError = operationError.map { SendableErrorDescription("\($0)") }
        return point
    }

    /// True when the operation returned before the crash (a crash after its last step).
    public var operationCompleted: Bool { operationError == nil }

    public var description: String { "\(name): crash after durable step \(step) of \(of) (UNDERSTUDY_SEED=\(seed))" }
}

/// A check failed, or the harness could not crash where it meant to.
public struct CrashStepFailure: Error, CustomStringConvertible {
    public let point: CrashPoint
    public let problem: String
    public var description: String { "\(point): \(problem)" }
}

private struct SendableErrorDescription: Error, Sendable, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What `understudy tranlog verify DIR` checks, on any file system: every record of every file in
/// fileId order (CRCs, the CRC chain, seqno continuity, epochs, no missing or truncated file). A
/// torn tail at the end of the newest file is not damage. Returns every record read.
public func verifyTranlogChain(_ directory: FilePath, fileSystem: any TranlogFileSystem) throws(TranlogError) -> [TranlogRecord] {
    let logs = try TranlogDirectory.scan(directory, fileSystem: fileSystem)
    guard !logs.files.isEmpty else { throw .noLogs(directory: directory.string) }
    var cursor = TranlogCursor(directory: logs, fileSystem: fileSystem)
    var records: [TranlogRecord] = []
    while let record = try cursor.next() { records.append(record) }
    return records
}
