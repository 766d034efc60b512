import Foundation
import Node
import Transport
import Testing

@Suite("Backup, checkpoint suspension and restore verbs against a real `understudy start`")
struct BackupCommandTests {
    @Test("backup full writes files that backup verify reads back; damage is exit 1 naming the file")
    func fullAndVerify() throws {
        try withTemporaryDirectory { directory in
            let data = try initialized(directory)
            let node = try ServerProcess(data: data, in: directory)
            defer { node.cleanUp() }
            for key in ["alpha", "beta", "gamma"] { try succeeding(["put", key, "value of \(key)", "--node", node.url], in: directory) }

            // Relative paths are relative to where the command runs, not to the node.
            let full = try succeeding(
                ["backup", "full", "--to", "nightly-1", "nightly-2", "--mbytes", "0", "--label", "nightly", "--data", data.path, "--node", node.url],
                in: directory)
            let first = directory.appendingPathComponent("nightly-1").path
            #expect(full.standardOutput.hasPrefix("Full backup completed to file: \(first)\n"), "\(full.standardOutput)")
            #expect(field("objects", in: full.standardOutput) == "3")

            let verified = try succeeding(["backup", "verify", first], in: directory)
            #expect(field("objects", in: verified.standardOutput) == "3")
            #expect(field("label", in: verified.standardOutput) == "nightly")
            #expect(field("logging mode", in: verified.standardOutput) == "full")
            #expect(field("position", in: verified.standardOutput)?.hasPrefix("seqno ") == true)

            let json = try succeeding(["backup", "full", "--to", "zipped", "--compress", "--json", "--data", data.path, "--node", node.url], in: directory)
            let summary = try JSONDecoder().decode(BackupSummaryLine.self, from: Data(json.standardOutput.utf8))
            #expect(summary.files == [directory.appendingPathComponent("zipped.gz").path] && summary.objectCount == 3)

            let bytes = try Data(contentsOf: URL(fileURLWithPath: first))
            let damaged = directory.appendingPathComponent("damaged")
            try bytes.prefix(bytes.count - 10).write(to: damaged)
            let refused = try CLIProcess.run(["backup", "verify", damaged.path], in: directory)
            #expect(refused.status == 1)
            #expect(refused.standardError.contains(damaged.path), "\(refused.standardError)")

            let exists = try CLIProcess.run(["backup", "full", "--to", first, "--data", data.path, "--node", node.url], in: directory)
            #expect(exists.status == 1 && exists.standardError.contains("\(first) already exists"))
        }
    }

    @Test("snapshot a primary under writes; the copy, in restore mode, rolls forward and holds everything written before")
    func snapshotAndRestore() throws {
        try withTemporaryDirectory { directory in
            let data = try initialized(directory)
            let primary = try ServerProcess(data: data, in: directory)
            defer { primary.cleanUp() }
            for index in 0..<5 { try succeeding(["put", "before\(index)", "v\(index)", "--node", primary.url], in: directory) }

            // What a running node renames into place, left where the copy would meet it.
            let transient = ["stray.json.tmp", "tranlogs/tranlog999999.dbf.preallocated"]
            for path in transient { #expect(FileManager.default.createFile(atPath: data.appendingPathComponent(path).path, contents: Data([0]))) }
            let writer = try BackgroundWriter(url: primary.url)
            let copy = directory.appendingPathComponent("copy")
            let snapshot = try succeeding(["backup", "snapshot", "--to", copy.path, "--minutes", "5", "--data", data.path, "--node", primary.url], in: directory)
            writer.stop()
            for path in transient {
                #expect(!FileManager.default.fileExists(atPath: copy.appendingPathComponent(path).path), "\(path) is never copied")
            }
            #expect(FileManager.default.fileExists(atPath: copy.appendingPathComponent("tranlogs").path))
            #expect(snapshot.standardOutput.contains("they were still suspended, so the copy is usable"), "\(snapshot.standardOutput)")
            #expect(!FileManager.default.fileExists(atPath: copy.appendingPathComponent("LOCK").path))
            let tokenMode = try FileManager.default.attributesOfItem(atPath: copy.appendingPathComponent("admin.token").path)[.posixPermissions]
            #expect(tokenMode as? Int == 0o600)
            let checkpoints = try succeeding(["checkpoints", "status", "--data", data.path, "--node", primary.url], in: directory)
            #expect(checkpoints.standardOutput == "checkpoints not suspended\n")

            let restoring = try ServerProcess(data: copy, in: directory, extraArguments: ["--restore-mode"])
            defer { restoring.cleanUp() }
            let status = try succeeding(["status", "--node", restoring.url], in: directory).standardOutput
            #expect(field("role", in: status) == "restoring")
            #expect(status.split(separator: "\n").last?.hasPrefix("Restoring from transaction log files, restored to ") == true, "\(status)")

            let logs = try succeeding(["restore", "logs", "--data", copy.path, "--node", restoring.url], in: directory)
            #expect(logs.standardOutput.hasPrefix("Restore from transaction log(s) succeeded"), "\(logs.standardOutput)")
            let commit = try succeeding(["restore", "commit", "--data", copy.path, "--node", restoring.url], in: directory)
            #expect(commit.standardOutput.hasPrefix("The restore was committed: epoch 2"), "\(commit.standardOutput)")
            #expect(commit.standardError.isEmpty, "no warning after a complete log restore: \(commit.standardError)")
            #expect(try succeeding(["status", "--node", restoring.url], in: directory).standardOutput.hasSuffix("Restore is not active\n"))

            for index in 0..<5 {
                #expect(try succeeding(["get", "before\(index)", "--node", restoring.url], in: directory).standardOutput == "v\(index)")
            }
            try succeeding(["put", "after-restore", "x", "--node", restoring.url], in: directory)
        }
    }

    @Test("checkpoints suspend, then resume says whether they were still suspended")
    func suspendResume() throws {
        try withTemporaryDirectory { directory in
            let data = try initialized(directory)
            let node = try ServerProcess(data: data, in: directory)
            defer { node.cleanUp() }
            let admin = ["--data", data.path, "--node", node.url]
            let suspended = try succeeding(["checkpoints", "suspend", "--minutes", "3"] + admin, in: directory)
            #expect(suspended.standardOutput.hasPrefix("checkpoints suspended: "), "\(suspended.standardOutput)")
            let resumed = try succeeding(["checkpoints", "resume"] + admin, in: directory)
            #expect(resumed.standardOutput.contains("were still suspended: yes"))
            let again = try succeeding(["checkpoints", "resume", "--json"] + admin, in: directory)
            #expect(again.standardOutput == "{\"wereStillSuspended\":false}\n")
        }
    }

    private func initialized(_ directory: URL) throws -> URL {
        let data = directory.appendingPathComponent("data")
        try succeeding(["init", "--data", data.path, "--source-id", "backup-test"], in: directory)
        return data
    }

    /// Runs a verb that must succeed.
    @discardableResult
    private func succeeding(_ arguments: [String], in directory: URL) throws -> CLIProcess.Result {
        let result = try CLIProcess.run(arguments, in: directory)
        #expect(result.status == 0, "understudy \(arguments.joined(separator: " ")): \(result.standardError)")
        return result
    }
}

/// The fields of `backup full --json` the test reads.
private struct BackupSummaryLine: Decodable {
    var files: [String]
    var objectCount: Int
}

/// Commits to the primary until stopped, so the snapshot is taken while the tranlogs grow.
private final class BackgroundWriter: Sendable {
    private let client: NodeClient
    private let stopping = Locked(false)
    private let finished = DispatchSemaphore(value: 0)
    private let failure = Locked<String?>(nil)

    init(url: String) throws {
        client = try NodeClient(url: url, timeout: .seconds(30))
        Thread.detachNewThread { [self] in
            defer { finished.signal() }
            var index = 0
            while !stopping.withLock({ $0 }) {
                do { _ = try client.put(key: Array("during\(index)".utf8), value: [1]) } catch {
                    return failure.withLock { $0 = "\(error)" }
                }
                index += 1
            }
        }
    }

    func stop() {
        stopping.withLock { $0 = true }
        finished.wait()
        client.close()
        if let failure = failure.withLock({ $0 }) { Issue.record("a write during the snapshot failed: \(failure)") }
    }
}
