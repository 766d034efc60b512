import Foundation
import Node
import Testing
import Tranlog

/// The role changes with real processes, killed for real: the regression tests of the findings
/// that a committed restore could not restart, that `restore commit` made a streaming standby a
/// second writable node, that a kill during promote left half-promoted nodes, and that promote on a
/// primary claimed it was already promoted.
@Suite("Role transitions with real processes: restore commit, promote, kill -9 in between")
struct RoleTransitionTests {
    static func run(_ arguments: [String], in directory: URL) throws -> CLIProcess.Result {
        let result = try CLIProcess.run(arguments, in: directory)
        #expect(result.status == 0, "\(arguments): \(result.standardError)")
        return result
    }

    @Test("a restore from archived logs, committed, written and killed -9, starts again with every write")
    func committedArchiveRestoreRestarts() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["base": "0"])
            defer { pair.cleanUp() }
            // The standby directory is a copy of the primary before these writes: the restore's base.
            try StandbyCommandTests.put(Dictionary(uniqueKeysWithValues: (0..<20).map { ("logged-\($0)", "v\($0)") }), on: pair.primary.url)
            #expect(pair.primary.stop(with: SIGTERM) == 0)
            let archive = pair.primaryData.appendingPathComponent("tranlogs").path
            let restoring = try ServerProcess(data: pair.standbyData, in: directory, extraArguments: ["--restore-mode"])
            defer { restoring.cleanUp() }
            let admin = ["--data", pair.standbyData.path, "--node", restoring.url]
            _ = try Self.run(["restore", "logs", "--archive", archive] + admin, in: directory)
            let commit = try Self.run(["restore", "commit"] + admin, in: directory)
            #expect(commit.standardOutput.hasPrefix("The restore was committed: epoch 2"), "\(commit.standardOutput)")
            try StandbyCommandTests.put(["after-commit": "acknowledged"], on: restoring.url)
            #expect(restoring.stop(with: SIGKILL) == SIGKILL)

            let restarted = try ServerProcess(data: pair.standbyData, in: directory)
            defer { restarted.cleanUp() }
            let status = try StandbyCommandTests.client(restarted.url) { try $0.status() }
            #expect(status.role == "primary" && status.repository.epoch == Epoch(2))
            let contents = try PromotionTests.contents(of: restarted)
            #expect(contents[Array("after-commit".utf8)] == Array("acknowledged".utf8))
            #expect(contents.count == 1 + 20 + 1)
        }
    }

    /// Finding 4: C restored backup B and committed at once (epoch 2), then wrote a little; E
    /// restored B and rolled forward with the primary's logs past C's seqnos. C's logs only overlap
    /// E's position: they used to "succeed, applying no records".
    @Test("restore logs --archive of a forked node's tranlogs that only overlap is refused, naming both epochs and the fork")
    func overlappingForkedArchiveIsRefused() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["base": "0"])
            defer { pair.cleanUp() }
            let nodeC = directory.appendingPathComponent("c")
            #expect(try ExternalBackupTests.copy(pair.standbyData, to: nodeC) == 0)
            try StandbyCommandTests.put(Dictionary(uniqueKeysWithValues: (0..<30).map { ("p\($0)", "v\($0)") }), on: pair.primary.url)
            #expect(pair.primary.stop(with: SIGTERM) == 0)

            let forked = try ServerProcess(data: nodeC, in: directory, extraArguments: ["--restore-mode"])
            _ = try Self.run(["restore", "commit", "--node", forked.url, "--data", nodeC.path], in: directory)
            try StandbyCommandTests.put(["c1": "x", "c2": "y"], on: forked.url)
            #expect(forked.stop(with: SIGTERM) == 0)

            let nodeE = try ServerProcess(data: pair.standbyData, in: directory, extraArguments: ["--restore-mode"])
            defer { nodeE.cleanUp() }
            let admin = ["--node", nodeE.url, "--data", pair.standbyData.path]
            _ = try Self.run(["restore", "logs", "--archive", pair.primaryData.appendingPathComponent("tranlogs").path] + admin, in: directory)
            let before = try StandbyCommandTests.client(nodeE.url) { try $0.status().repository.applied }
            let refused = try CLIProcess.run(["restore", "logs", "--archive", nodeC.appendingPathComponent("tranlogs").path] + admin, in: directory)
            #expect(refused.status != 0)
            #expect(refused.standardError.contains("begins epoch 2 as a branch of epoch 1"), "\(refused.standardError)")
            #expect(refused.standardError.contains("is in epoch 1"), "\(refused.standardError)")
            #expect(!refused.standardOutput.contains("succeeded"), "\(refused.standardOutput)")
            let after = try StandbyCommandTests.client(nodeE.url) { try $0.status().repository.applied }
            #expect(after == before, "nothing of the forked timeline was applied")
        }
    }

    /// Finding 7: a tranlog whose header cannot be read used to be taken for another repository's
    /// and set aside by the commit; now the commit stops and names it.
    @Test("restore commit stops at a tranlog with a damaged header, naming it, and moves nothing")
    func damagedTranlogStopsTheCommit() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["base": "0"])
            defer { pair.cleanUp() }
            let restoring = try ServerProcess(data: pair.standbyData, in: directory, extraArguments: ["--restore-mode"])
            defer { restoring.cleanUp() }
            let first = pair.standbyData.appendingPathComponent("tranlogs/tranlog1.dbf")
            var bytes = try Data(contentsOf: first)
            bytes[0] ^= 0xFF
            try bytes.write(to: first)
            let commit = try CLIProcess.run(["restore", "commit", "--node", restoring.url, "--data", pair.standbyData.path], in: directory)
            #expect(commit.status != 0)
            #expect(commit.standardError.contains(first.path), "\(commit.standardError)")
            #expect(try Data(contentsOf: first) == bytes, "the file stays where it was")
            let status = try StandbyCommandTests.client(restoring.url) { try $0.status() }
            #expect(status.role == "restoring")
        }
    }

    @Test("restore commit on a streaming standby is refused, naming promote; so is a write, and promote on a primary")
    func restoreCommitOnAStandbyIsRefused() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["k": "v"])
            defer { pair.cleanUp() }
            let standby = try pair.startStandby()
            defer { standby.cleanUp() }
            let admin = ["--data", pair.standbyData.path, "--node", standby.url]
            let commit = try CLIProcess.run(["restore", "commit"] + admin, in: directory)
            #expect(commit.status == 1)
            #expect(commit.standardError.contains("this node is a standby of the primary at"), "\(commit.standardError)")
            #expect(commit.standardError.contains("run `understudy promote`"), "\(commit.standardError)")
            let status = try StandbyCommandTests.client(standby.url) { try $0.status() }
            #expect(status.role == "standby" && status.repository.restoring, "the refused commit changed nothing")

            let write = try CLIProcess.run(["put", "new", "x", "--node", standby.url], in: directory)
            #expect(write.status == 1)
            #expect(write.standardError.contains("`understudy promote` makes it a primary"), "\(write.standardError)")
            #expect(!write.standardError.contains("restore commit"), "\(write.standardError)")

            let onPrimary = try CLIProcess.run(["promote", "--node", pair.primary.url, "--data", pair.primaryData.path], in: directory)
            #expect(onPrimary.status == 1)
            #expect(onPrimary.standardError.contains("this node is a primary, not a standby"), "\(onPrimary.standardError)")
        }
    }

    /// A standby killed -9 a few milliseconds into its promote restarts as exactly one of the two
    /// roles: started with its standby command line it follows its primary again (before the commit
    /// point), or it is refused as promoted and then starts as the primary of epoch 2 (after it);
    /// in either case a second promote finishes the job and its writes land in one epoch.
    @Test("kill -9 during promote: the standby restarts as the standby it was or as the promoted primary, never between",
          arguments: [0, 2, 5, 10])
    func killDuringPromote(afterMilliseconds delay: Int) throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["k": "v"])
            defer { pair.cleanUp() }
            let standby = try pair.startStandby()
            defer { standby.cleanUp() }
            try StandbyCommandTests.put(Dictionary(uniqueKeysWithValues: (0..<30).map { ("w\($0)", "v\($0)") }), on: pair.primary.url)
            let last = try PromotionTests.seqno(of: pair.primary)
            try PromotionTests.waitUntilApplied(standby, reaches: last)

            let promote = try ChildProcess(
                try #require(CLIProcess.binary).path, ["promote", "--node", standby.url, "--data", pair.standbyData.path],
                standardOutput: .null, standardError: .null)
            usleep(useconds_t(delay * 1000))
            #expect(standby.stop(with: SIGKILL) == SIGKILL)
            _ = promote.waitForExit()

            let again = try ServerProcess([
                "standby", "--data", pair.standbyData.path, "--primary", pair.primary.fields["replication"] ?? "?",
                "--replication-key-file", directory.appendingPathComponent("key").path, "--http", "127.0.0.1:0",
            ], in: directory, mayBeRefused: true)
            defer { again.cleanUp() }
            let node: ServerProcess
            if again.refused {
                #expect(again.log.contains("is a primary: `promote` at"), "\(again.log)")
                node = try ServerProcess(data: pair.standbyData, in: directory)
            } else {
                // Before the commit point: a standby again, following and accepted by its primary.
                let following = try StandbyCommandTests.waitForStatus(of: again) { $0.replication?.state == "idle" || $0.replication?.state == "streaming" }
                #expect(following.role == "standby" && following.replication?.lastRejection == nil)
                node = again
            }
            defer { node.cleanUp() }
            let report = try Self.run(["promote", "--node", node.url, "--data", pair.standbyData.path, "--json"], in: directory)
            let promoted = try JSONDecoder().decode(PromoteReport.self, from: Data(report.standardOutput.utf8))
            #expect(promoted.epoch == Epoch(2), "one promotion, one new epoch: \(promoted.message)")
            try StandbyCommandTests.put(["after": "promote"], on: node.url)
            let contents = try PromotionTests.contents(of: node)
            #expect(contents.count == 1 + 30 + 1, "nothing the standby had applied is lost")
            let verify = try CLIProcess.run(["tranlog", "verify", pair.standbyData.appendingPathComponent("tranlogs").path], in: directory)
            #expect(verify.status == 0, "\(verify.standardOutput)\(verify.standardError)")
        }
    }
}
