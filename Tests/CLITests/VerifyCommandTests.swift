import Foundation
import Node
import Repository
import SystemPackage
import Testing
import Tranlog

@Suite("Content digests with real processes: verify, and a diverged standby")
struct VerifyCommandTests {
    @Test("a caught-up standby verifies equal to its primary; two nodes with one differing key do not, and verify names it")
    func verifyEqualAndDifferent() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["a": "1", "b": "2"])
            defer { pair.cleanUp() }
            let standby = try pair.startStandby()
            defer { standby.cleanUp() }
            try StandbyCommandTests.put(["c": "3"], on: pair.primary.url)
            let equal = try CLIProcess.run(["verify", "--node", pair.primary.url, "--node", standby.url, "--timeout", "20"], in: directory)
            #expect(equal.status == 0, "\(equal.standardOutput)\(equal.standardError)\n\(standby.log)")
            #expect(equal.standardOutput.hasPrefix("equal: both nodes hold the same content at seqno"), "\(equal.standardOutput)")

            // Two independent nodes written alike but for one value: same seqnos, different content.
            let nodes = try ["one", "two"].map { name in
                let data = directory.appendingPathComponent(name).path
                try StandbyCommandTests.Pair.run(["init", "--data", data, "--source-id", name], in: directory)
                return try ServerProcess(["start", "--data", data, "--http", "127.0.0.1:0"], in: directory)
            }
            defer { nodes.forEach { $0.cleanUp() } }
            for (node, middle) in zip(nodes, ["same", "changed"]) {
                try StandbyCommandTests.client(node.url) { client in
                    for (key, value) in [("k1", "same"), ("k2", middle), ("k3", "same")] { _ = try client.put(key: Array(key.utf8), value: Array(value.utf8)) }
                }
            }
            let different = try CLIProcess.run(["verify", "--node", nodes[0].url, "--node", nodes[1].url, "--timeout", "20"], in: directory)
            #expect(different.status == 1, "\(different.standardOutput)\(different.standardError)")
            #expect(different.standardOutput.hasPrefix("DIFFERENT at seqno"), "\(different.standardOutput)")
            #expect(different.standardOutput.contains("first differing key: k2"), "\(different.standardOutput)")
            #expect(different.standardOutput.contains("'same' (4 bytes)") && different.standardOutput.contains("'changed' (7 bytes)"))

            let json = try CLIProcess.run(["verify", "--node", nodes[0].url, "--node", nodes[1].url, "--json"], in: directory)
            #expect(json.status == 1)
            #expect(json.standardOutput.contains("\"equal\":false") && json.standardOutput.contains("\"key\":\"k2\""), "\(json.standardOutput)")
        }
    }

    @Test("a standby whose checkpoint was altered offline goes offline as diverged at the first common seqno, and says so")
    func alteredStandbyDiverges() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["a": "1", "b": "2"])
            defer { pair.cleanUp() }
            var standby = try pair.startStandby()
            defer { standby.cleanUp() }
            try StandbyCommandTests.put(["c": "3"], on: pair.primary.url)
            let target = try StandbyCommandTests.client(pair.primary.url) { try $0.status().repository.applied.seqno }
            _ = try StandbyCommandTests.waitForStatus(of: standby) { $0.repository.applied.seqno >= target }
            #expect(standby.stop(with: SIGTERM) == 0)
            try Self.alterLatestRun(of: pair.standbyData)
            standby = try pair.startStandby()

            let diverged = try StandbyCommandTests.waitForStatus(of: standby) { $0.replication?.offline?.fault?.kind == .diverged }
            let message = try #require(diverged.replication?.offline?.fault?.message)
            #expect(message.contains("the content diverged from the primary's at seqno"), "\(message)")
            #expect(diverged.replication?.state == "offline")
            let metrics = try StandbyCommandTests.client(standby.url) { try $0.metrics() }
            #expect(metrics.contains("understudy_replication_diverged 1"), "\(metrics)")
            #expect(standby.log.components(separatedBy: "the content diverged").count == 2, "logged once:\n\(standby.log)")
        }
    }

    /// Rewrites the data directory's newest extent run with one value changed, under a MANIFEST
    /// without a digest (as one written before digests): recovery has nothing to check it against,
    /// and every record still chains — only the content is wrong.
    static func alterLatestRun(of data: URL) throws {
        let fileSystem = PosixFileSystem()
        let extents = FilePath(data.appendingPathComponent("extents").path)
        var manifest = try #require(try ManifestStore.read(directory: extents, fileSystem: fileSystem))
        let latest = try #require(manifest.runs.last)
        let path = extents.appending(latest.fileName)
        var entries = try ExtentRun.open(path, repositoryID: manifest.repositoryID, fileSystem: fileSystem).entries()
        let altered = try #require(entries.firstIndex { $0.value != nil })
        entries[altered].value = Array("altered offline".utf8)
        manifest.runs[manifest.runs.count - 1] = try ExtentRunWriter.write(
            entries, generation: latest.generation, repositoryID: manifest.repositoryID, to: path, fileSystem: fileSystem)
        manifest.digest = nil
        try ManifestStore.write(manifest, directory: extents, fileSystem: fileSystem)
    }
}
