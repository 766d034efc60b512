import Foundation
import Repository
import SystemPackage
import Testing
import Tranlog

/// `understudy audit` as a real process, on a data directory the test builds through the library
/// (a generated log belongs to no repository's extents, so it cannot stand in for one).
@Suite struct AuditCommandTests {
    @Test func auditPassesACleanDirectoryAndNamesADamagedRun() throws {
        try withTemporaryDirectory { root in
            let data = root.appendingPathComponent("data")
            try Self.buildRepository(at: FilePath(data.path))
            let clean = try CLIProcess.run(["audit", "--data", data.path], in: root)
            #expect(clean.status == 0, "\(clean.standardOutput)\(clean.standardError)")
            #expect(field("extents", in: clean.standardOutput) == "2 runs, 2 blocks, 25 entries")
            #expect(field("objects", in: clean.standardOutput) == "20")
            #expect(field("result", in: clean.standardOutput) == "no problems")

            let run = data.appendingPathComponent("extents").appendingPathComponent("extent-000001.dbf")
            var bytes = try Data(contentsOf: run)
            bytes[100] ^= 0x40  // inside the only block, which starts after the 64-byte header
            try bytes.write(to: run)
            let damaged = try CLIProcess.run(["audit", "--data", data.path], in: root)
            #expect(damaged.status == 1)
            #expect(damaged.standardOutput.contains("page problem in \(run.path) at offset 64: "), "\(damaged.standardOutput)")
            #expect(damaged.standardOutput.contains("what to do: restore from a backup"), "\(damaged.standardOutput)")

            let json = try CLIProcess.run(["audit", "--data", data.path, "--json"], in: root)
            #expect(json.status == 1)
            let report = try JSONDecoder().decode(AuditReport.self, from: Data(json.standardOutput.utf8))
            #expect(!report.ok && report.problems.map(\.file) == [run.path])
        }
    }

    @Test func auditRefusesADirectoryWithoutARepository() throws {
        try withTemporaryDirectory { root in
            let result = try CLIProcess.run(["audit", "--data", root.path], in: root)
            #expect(result.status == 1)
            #expect(result.standardError.contains("no repository here"), "\(result.standardError)")
        }
    }

    /// 20 keys written, checkpointed, 5 of them rewritten, then a clean shutdown: two runs.
    static func buildRepository(at root: FilePath) throws {
        try DataDirectory.initialize(root, sourceID: SourceID("audit-test")!, loggingMode: .full)
        let repository = try Repository(directory: DataDirectory(root))
        for index in 0..<25 {
            let key = Array("key-\(index % 20)".utf8)
            try CommitWait.commit(Transaction(operations: [.put(key: key, value: Array("value-\(index)".utf8))]), to: repository)
            if index == 19 { try repository.checkpoint() }
        }
        try repository.close()
    }
}

/// Waits for one commit's acknowledgement: `withTemporaryDirectory` runs its body synchronously.
private final class CommitWait: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    // Written once before `done` is signalled, read after the wait.
    private var result: Result<CommitOutcome, RepositoryError>?

    static func commit(_ transaction: Transaction, to repository: Repository) throws {
        let wait = CommitWait()
        repository.commit(transaction) { result in
            wait.result = result
            wait.done.signal()
        }
        wait.done.wait()
        _ = try wait.result!.get()
    }
}
