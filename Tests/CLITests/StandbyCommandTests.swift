import Foundation
import Node
import Testing
import Tranlog
import UnderstudyTesting

@Suite("Standby replication with real processes: start --replication, standby, promote")
struct StandbyCommandTests {
    /// A primary that served `keys`, stopped, copied to `standby`, and restarted serving standbys.
    struct Pair {
        let directory: URL
        let primaryData: URL
        let standbyData: URL
        var primary: ServerProcess

        /// `primaryArguments` are added to the primary's `start` (rotation size, retention limit).
        init(in directory: URL, keys: [String: String], primaryArguments: [String] = []) throws {
            self.directory = directory
            primaryData = directory.appendingPathComponent("primary")
            standbyData = directory.appendingPathComponent("standby")
            try Self.run(["init", "--data", primaryData.path, "--source-id", "primary"], in: directory)
            try writeSecret("primary-and-standby-share-this-key\n", to: directory.appendingPathComponent("key"))
            primary = try Self.startPrimary(primaryData, in: directory, primaryArguments)
            try StandbyCommandTests.put(keys, on: primary.url)
            #expect(primary.stop(with: SIGTERM) == 0)
            let copy = try ChildProcess.run("/bin/cp", ["-a", primaryData.path, standbyData.path])
            #expect(copy.termination.succeeded, "\(String(decoding: copy.errors, as: UTF8.self))")
            primary = try Self.startPrimary(primaryData, in: directory, primaryArguments)
        }

        /// `arguments` are added to the standby's own.
        func startStandby(keyFile: String = "key", _ arguments: [String] = []) throws -> ServerProcess {
            try ServerProcess([
                "standby", "--data", standbyData.path, "--primary", primary.fields["replication"] ?? "?",
                "--replication-key-file", directory.appendingPathComponent(keyFile).path, "--http", "127.0.0.1:0",
            ] + arguments, in: directory)
        }

        /// No timed checkpoint unless a test asks for one: its marker record takes a seqno, and a test that
        /// read the primary's seqno and waits for a standby to stand exactly there never sees it once a
        /// slow run keeps the primary up past the default minute.
        private static func startPrimary(_ data: URL, in directory: URL, _ arguments: [String] = []) throws -> ServerProcess {
            let checkpoints = arguments.contains("--checkpoint-seconds") ? [] : ["--checkpoint-seconds", "3600"]
            let node = try ServerProcess([
                "start", "--data", data.path, "--http", "127.0.0.1:0", "--replication", "127.0.0.1:0",
                "--replication-key-file", directory.appendingPathComponent("key").path,
            ] + checkpoints + arguments, in: directory)
            try #require(node.fields["replication"] != nil, "no replication= in the ready line")
            return node
        }

        static func run(_ arguments: [String], in directory: URL) throws {
            let result = try CLIProcess.run(arguments, in: directory)
            #expect(result.status == 0, "\(arguments): \(result.standardError)")
        }

        func cleanUp() {
            primary.cleanUp()
        }
    }

    @Test("a standby catches up, serves reads, refuses writes; promoted after kill -9 it takes writes in epoch 2")
    func followAndPromote() throws {
        try withTemporaryDirectory { directory in
            let before = Dictionary(uniqueKeysWithValues: (0..<5).map { ("before-\($0)", "value \($0)") })
            let pair = try Pair(in: directory, keys: before)
            defer { pair.cleanUp() }
            let standby = try pair.startStandby()
            defer { standby.cleanUp() }
            let after = Dictionary(uniqueKeysWithValues: (0..<5).map { ("after-\($0)", "later \($0)") })
            try Self.put(after, on: pair.primary.url)

            let target = try Self.client(pair.primary.url) { try $0.status().repository.applied.seqno }
            let caughtUp = try Self.waitForStatus(of: standby) { $0.repository.applied.seqno == target }
            #expect(caughtUp.role == "standby")
            #expect(caughtUp.replication?.primary == pair.primary.fields["replication"])
            let backlog = try #require(caughtUp.replication?.applyBacklog)
            #expect(backlog.syncedSeqno == target && backlog.appliedSeqno == target && backlog.records == 0, "\(backlog)")
            #expect(backlog.appliedTime != nil)
            let primaryStatus = try Self.client(pair.primary.url) { try $0.status() }
            #expect(primaryStatus.standbys?.count == 1)
            try Self.client(standby.url) { client in
                for (key, value) in before.merging(after, uniquingKeysWith: { $1 }) {
                    #expect(try client.get(key: Array(key.utf8))?.value == Array(value.utf8), "\(key)")
                }
                do {
                    _ = try client.put(key: Array("refused".utf8), value: [1])
                    Issue.record("a standby accepted a write")
                } catch let error as NodeClientError {
                    if case .refused(let status, _, let detail) = error {
                        #expect(status == 503)
                        #expect(detail.contains("`understudy promote` makes it a primary"), "\(detail)")
                    } else {
                        Issue.record("\(error)")
                    }
                }
            }

            pair.primary.stop(with: SIGKILL)
            let promoted = try CLIProcess.run(["promote", "--node", standby.url, "--data", pair.standbyData.path, "--json"], in: directory)
            #expect(promoted.status == 0, "\(promoted.standardError)")
            let report = try JSONDecoder().decode(PromoteReport.self, from: Data(promoted.standardOutput.utf8))
            #expect(report.promoted)
            #expect(report.epoch.rawValue == 2)
            #expect(report.applied.seqno == target)
            #expect(report.lostRecords == 0)
            try Self.client(standby.url) { client in
                _ = try client.put(key: Array("after-promotion".utf8), value: Array("written".utf8))
                #expect(try client.status().role == "primary")
            }
            let again = try CLIProcess.run(["promote", "--node", standby.url, "--data", pair.standbyData.path], in: directory)
            #expect(again.standardOutput.hasPrefix("already promoted at epoch 2"), "\(again.standardOutput)")
            #expect(standby.stop(with: SIGTERM) == 0)
        }
    }

    @Test("a standby checkpoints by the log it applied, at its own --checkpoint-mbytes")
    func standbyCheckpointOptions() throws {
        try withTemporaryDirectory { directory in
            let pair = try Pair(in: directory, keys: ["before": "copy"])
            defer { pair.cleanUp() }
            // The timer is out of the way: only the applied volume can start the standby's checkpoint.
            let standby = try pair.startStandby(["--checkpoint-mbytes", "1", "--checkpoint-seconds", "3600"])
            defer { standby.cleanUp() }
            let copied = try Self.waitForStatus(of: standby) { $0.replication?.applyBacklog != nil }.repository.checkpoint.position.seqno
            let value = String(repeating: "v", count: 64 << 10)
            try Self.put(Dictionary(uniqueKeysWithValues: (0..<24).map { ("large-\($0)", value) }), on: pair.primary.url)
            let target = try Self.client(pair.primary.url) { try $0.status().repository.applied.seqno }
            let checkpointed = try Self.waitForStatus(of: standby) { $0.repository.checkpoint.position.seqno > copied }
            #expect(checkpointed.repository.checkpoint.position.seqno <= target)
            #expect(checkpointed.repository.checkpoint.logBytesSinceCheckpoint < 1 << 20)
            #expect(standby.stop(with: SIGTERM) == 0)
        }
    }

    @Test("a standby with the wrong key is refused, and its status says why")
    func wrongKey() throws {
        try withTemporaryDirectory { directory in
            let pair = try Pair(in: directory, keys: ["only": "one"])
            defer { pair.cleanUp() }
            try writeSecret("this-is-not-the-primary-key", to: directory.appendingPathComponent("wrong"))
            let standby = try pair.startStandby(keyFile: "wrong")
            defer { standby.cleanUp() }
            let refused = try Self.waitForStatus(of: standby) { $0.replication?.lastRejection != nil }
            #expect(refused.replication?.lastRejection?.contains("replication key") == true, "\(String(describing: refused.replication))")
        }
    }

    @Test("a mistyped option is named as the typo it is, not as the option it was meant to be")
    func typo() throws {
        try withTemporaryDirectory { directory in
            let result = try CLIProcess.run(["standby", "--data", directory.appendingPathComponent("s").path, "--primay", "127.0.0.1:1"], in: directory)
            #expect(result.status != 0)
            #expect(result.standardError.contains("Unknown option '--primay'. Did you mean '--primary'?"), "\(result.standardError)")
        }
    }

    @Test("a standby on a non-empty directory without a repository is refused, naming what is in it")
    func emptyDirectory() throws {
        try withTemporaryDirectory { directory in
            try writeSecret("primary-and-standby-share-this-key", to: directory.appendingPathComponent("key"))
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("nothing"), withIntermediateDirectories: false)
            try Data("mine".utf8).write(to: directory.appendingPathComponent("nothing/notes.txt"))
            let result = try CLIProcess.run([
                "standby", "--data", directory.appendingPathComponent("nothing").path, "--primary", "127.0.0.1:1",
                "--replication-key-file", directory.appendingPathComponent("key").path, "--http", "127.0.0.1:0",
            ], in: directory)
            #expect(result.status != 0)
            #expect(result.standardError.contains("nothing/notes.txt"), "\(result.standardError)")
        }
    }

    static func put(_ keys: [String: String], on url: String) throws {
        try client(url) { client in
            for (key, value) in keys { _ = try client.put(key: Array(key.utf8), value: Array(value.utf8)) }
        }
    }

    @discardableResult
    static func client<Value>(_ url: String, _ body: (NodeClient) throws -> Value) throws -> Value {
        let client = try NodeClient(url: url, timeout: .seconds(10))
        defer { client.close() }
        return try body(client)
    }

    /// Polls `GET /status` until `condition` holds; a missed deadline fails the test with the node's log.
    static func waitForStatus(of node: ServerProcess, deadline seconds: TimeInterval = 20, _ condition: (NodeStatus) -> Bool) throws -> NodeStatus {
        let deadline = Date().addingTimeInterval(seconds)
        return try client(node.url) { client in
            var status = try client.status()
            while !condition(status) {
                try #require(Date() < deadline, "status never matched; last: \(status), log:\n\(node.log)")
                Thread.sleep(forTimeInterval: 0.05)
                status = try client.status()
            }
            return status
        }
    }
}
