import Foundation
import Repository
import SystemPackage
import Tranlog

/// What the repository benchmarks share: a scratch directory on the disk under test, the objects they
/// write, a configuration that never checkpoints, and the process's resident memory.
enum BenchmarkRepository {
    static let sourceID = SourceID("bench")!

    /// A fresh directory inside `parent`; the caller removes it.
    static func makeScratch(in parent: String) throws -> FilePath {
        let scratch = FilePath(parent).appending("understudy-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: scratch.string, withIntermediateDirectories: true)
        return scratch
    }

    /// A new repository's data directory inside `scratch`.
    static func initialize(in scratch: FilePath) throws -> DataDirectory {
        let root = scratch.appending("data")
        try DataDirectory.initialize(root, sourceID: sourceID, loggingMode: .full)
        return DataDirectory(root)
    }

    /// No checkpoint, by time or by log size: every record written stays to be replayed.
    static var withoutCheckpoints: RepositoryConfiguration {
        var configuration = RepositoryConfiguration()
        configuration.checkpointInterval = .seconds(365 * 24 * 3600)
        configuration.checkpointLogBytes = .max
        return configuration
    }

    static let keyBytes = 16

    /// `object-000000042`: fixed length, so bytes per object are exact.
    static func key(_ index: Int) -> [UInt8] {
        let digits = String(index)
        precondition(digits.count <= keyBytes - 7, "key index \(index) too large")
        return Array(("object-" + String(repeating: "0", count: keyBytes - 7 - digits.count) + digits).utf8)
    }

    /// Random bytes: nothing downstream can compress them away.
    static func randomValue(_ byteCount: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<byteCount).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// Resident set size of this process, from /proc/self/statm (Linux).
    static func residentBytes() throws -> Int {
        let statm = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8).split(separator: " ")
        guard statm.count > 1, let pages = Int(statm[1]) else { throw BenchmarkError("cannot read /proc/self/statm") }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// This benchmark binary, run as a child with `arguments`; stdout and stderr are shared.
func startSelf(_ arguments: [String]) throws -> ChildProcess {
    // Whatever the parent printed must come out before the child's lines.
    fflush(nil)
    return try ChildProcess(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path, arguments)
}

func format(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
}
