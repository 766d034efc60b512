import Foundation
import Testing
import UnderstudyTesting

@Suite("Replication key rotation with real processes: --replication-key-file given twice")
struct KeyRotationCommandTests {
    @Test("a primary with the old and the new key serves a standby on the new key; after dropping the old, one on the old is refused")
    func rotate() throws {
        try withTemporaryDirectory { directory in
            let newKey = directory.appendingPathComponent("new")
            try writeSecret("the-new-key-after-the-rotation\n", to: newKey)
            // Step 1: the new key beside the old ("key") on the primary.
            var pair = try StandbyCommandTests.Pair(
                in: directory, keys: ["before": "rotation"], primaryArguments: ["--replication-key-file", newKey.path])
            defer { pair.cleanUp() }
            // Step 2: the standby switched to the new key.
            let standby = try pair.startStandby(keyFile: "new")
            defer { standby.cleanUp() }
            try StandbyCommandTests.put(["during": "rotation"], on: pair.primary.url)
            let target = try StandbyCommandTests.client(pair.primary.url) { try $0.status().repository.applied.seqno }
            let caughtUp = try StandbyCommandTests.waitForStatus(of: standby) { $0.repository.applied.seqno == target }
            #expect(caughtUp.replication?.lastRejection == nil)
            standby.cleanUp()

            // Step 3: the old key dropped: a standby still on it is refused, naming the key.
            #expect(pair.primary.stop(with: SIGTERM) == 0)
            pair.primary = try ServerProcess([
                "start", "--data", pair.primaryData.path, "--http", "127.0.0.1:0", "--replication", "127.0.0.1:0",
                "--replication-key-file", newKey.path,
            ], in: directory)
            let stale = try pair.startStandby(keyFile: "key")
            defer { stale.cleanUp() }
            let refused = try StandbyCommandTests.waitForStatus(of: stale) { $0.replication?.lastRejection != nil }
            #expect(refused.replication?.lastRejection?.contains("replication key") == true, "\(String(describing: refused.replication))")
        }
    }

    @Test("a third --replication-key-file is refused before anything starts")
    func threeKeys() throws {
        try withTemporaryDirectory { directory in
            let result = try CLIProcess.run(
                ["start", "--data", directory.path, "--replication-key-file", "a", "--replication-key-file", "b", "--replication-key-file", "c"],
                in: directory)
            #expect(result.status != 0)
            #expect(result.standardError.contains("--replication-key-file is given at most twice"), "\(result.standardError)")
        }
    }
}
