import ArgumentParser
import Foundation
import Repository
import Tranlog

/// `understudy-bench memory`: resident memory per object, for the bare object table and for a
/// repository loaded through commits.
struct MemoryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Measure resident memory per object; print a Markdown table.",
        discussion: """
            Resident set size (/proc/self/statm) is read before and after loading --objects objects, each \
            with its own 16-byte key and its own --value-bytes value:
            1. into an ObjectTable (the hash trie alone);
            2. into a Repository through commits of 100 puts each, checkpoints disabled, then again after \
            one checkpoint (which drops the set of keys changed since the last one).
            Each runs in a fresh child process, so memory freed by one cannot hide in the other's baseline. \
            Overhead is bytes per object beyond key and value bytes. Repository files go to a fresh \
            directory inside --dir (default: the current directory), removed at the end.
            """)

    enum Target: String, ExpressibleByArgument, CaseIterable {
        case table, repository
    }

    @Option(help: "Objects to load.")
    var objects = 1_000_000

    @Option(name: .customLong("value-bytes"), help: "Size of each value.")
    var valueBytes = 100

    @Option(help: "Where to create the scratch directory.")
    var dir: String = FileManager.default.currentDirectoryPath

    @Option(help: .hidden)
    var into: Target?

    static let putsPerCommit = 100

    func validate() throws {
        guard objects > 0, valueBytes >= 0 else { throw ValidationError("--objects must be positive, --value-bytes not negative") }
    }

    func run() async throws {
        switch into {
        case nil: try measureEachInAChild()
        case .table: try measureObjectTable()
        case .repository: try await measureRepository()
        }
    }

    private func measureEachInAChild() throws {
        print("memory benchmark: \(objects) objects, \(BenchmarkRepository.keyBytes)-byte keys, \(valueBytes)-byte values\n")
        print("| loaded into | RSS before MiB | RSS after MiB | bytes/object | overhead bytes/object |")
        print("|---|---:|---:|---:|---:|")
        for target in Target.allCases {
            let child = try startSelf([
                "memory", "--objects", "\(objects)", "--value-bytes", "\(valueBytes)", "--dir", dir, "--into", target.rawValue,
            ])
            let ended = child.waitForExit()
            guard ended.succeeded else { throw BenchmarkError("measuring \(target) failed (\(ended))") }
        }
    }

    private func measureObjectTable() throws {
        let before = try BenchmarkRepository.residentBytes()
        var table = ObjectTable()
        for index in 0..<objects {
            table.apply([put(index)], seqno: Seqno(UInt64(index + 1)))
        }
        try printRow("ObjectTable", before: before, after: BenchmarkRepository.residentBytes())
        precondition(table.count == objects, "every key is distinct")
    }

    private func measureRepository() async throws {
        let scratch = try BenchmarkRepository.makeScratch(in: dir)
        defer { try? FileManager.default.removeItem(atPath: scratch.string) }
        let repository = try Repository(
            directory: BenchmarkRepository.initialize(in: scratch), configuration: BenchmarkRepository.withoutCheckpoints)
        let before = try BenchmarkRepository.residentBytes()
        for first in stride(from: 0, to: objects, by: Self.putsPerCommit) {
            let operations = (first..<min(first + Self.putsPerCommit, objects)).map(put)
            _ = try await repository.commit(Transaction(operations: operations))
        }
        try printRow("Repository, after commits", before: before, after: BenchmarkRepository.residentBytes())
        _ = try repository.checkpoint()
        try printRow("Repository, after a checkpoint", before: before, after: BenchmarkRepository.residentBytes())
        precondition(repository.status.objectCount == objects, "every key is distinct")
        try repository.close()
    }

    /// A distinct value array per object, as values arriving over the network would be.
    private func put(_ index: Int) -> Tranlog.Operation {
        .put(key: BenchmarkRepository.key(index), value: [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: valueBytes))
    }

    private func printRow(_ label: String, before: Int, after: Int) {
        let perObject = Double(after - before) / Double(objects)
        print(
            "| \(label) | \(format(Double(before) / 1_048_576, 1)) | \(format(Double(after) / 1_048_576, 1)) | "
                + "\(format(perObject, 0)) | \(format(perObject - Double(BenchmarkRepository.keyBytes + valueBytes), 0)) |")
    }
}
