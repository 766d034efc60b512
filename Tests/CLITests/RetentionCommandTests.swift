import Foundation
import Node
import Repository
import Testing

@Suite("Tranlog retention with real processes: known standbys, purge, forget")
struct RetentionCommandTests {
    /// Gives the copied standby its own node id (a copy carries the primary's source id).
    static func rename(_ data: URL, to nodeID: String) throws {
        let config = data.appendingPathComponent("understudy.json")
        let text = try String(contentsOf: config, encoding: .utf8)
        try Data(text.replacingOccurrences(of: "\"sourceID\" : \"primary\"", with: "\"sourceID\" : \"\(nodeID)\"").utf8).write(to: config)
        #expect(try String(contentsOf: config, encoding: .utf8).contains(nodeID))
    }

    @Test("purge refuses a stopped standby's logs naming it; once forgotten they go and the standby is told its logs were removed")
    func purgeKeepsAStoppedStandbysLogs() throws {
        try withTemporaryDirectory { directory in
            var pair = try StandbyCommandTests.Pair(in: directory, keys: ["first": "one"], primaryArguments: ["--rotation-kbytes", "4"])
            defer { pair.cleanUp() }
            try Self.rename(pair.standbyData, to: "east")
            let standby = try pair.startStandby()
            defer { standby.cleanUp() }
            let target = try StandbyCommandTests.client(pair.primary.url) { try $0.status().repository.applied.seqno }
            _ = try StandbyCommandTests.waitForStatus(of: pair.primary) { status in
                status.standbys?.contains { $0.standby?.name == "east" && $0.appliedSeqno == target } == true
            }
            #expect(standby.stop(with: SIGTERM) == 0)

            // The primary restarts (the standby must survive that in standbys.json) and writes a dozen files.
            #expect(pair.primary.stop(with: SIGTERM) == 0)
            pair.primary = try ServerProcess([
                "start", "--data", pair.primaryData.path, "--http", "127.0.0.1:0", "--replication", "127.0.0.1:0",
                "--replication-key-file", directory.appendingPathComponent("key").path, "--rotation-kbytes", "4",
            ], in: directory)
            let keys = Dictionary(uniqueKeysWithValues: (0..<200).map { ("later-\($0)", String(repeating: "x", count: 200)) })
            try StandbyCommandTests.put(keys, on: pair.primary.url)
            try StandbyCommandTests.Pair.run(["checkpoint", "--node", pair.primary.url, "--data", pair.primaryData.path], in: directory)
            let status = try StandbyCommandTests.client(pair.primary.url) { try $0.status() }
            let row = try #require(status.standbys?.first { $0.standby?.name == "east" }, "\(String(describing: status.standbys))")
            #expect(row.state == "disconnected")
            #expect(row.lastSeen != nil)
            #expect((row.retainedBytes ?? 0) > 40_000)
            #expect((row.lagRecords ?? 0) >= 200)
            let metrics = try StandbyCommandTests.client(pair.primary.url) { try $0.metrics() }
            #expect(metrics.contains("understudy_standby_retained_bytes{standby=\"east\"} \(row.retainedBytes ?? 0)"), "\(metrics)")
            #expect(metrics.contains("understudy_standby_connected{standby=\"east\"} 0"), "\(metrics)")
            let needed = status.repository.checkpoint.oldestFileIDNeeded.rawValue
            try #require(needed > 3, "the log did not rotate: oldest needed \(needed)")
            let purge = ["tranlog", "purge", "--node", pair.primary.url, "--data", pair.primaryData.path, "--through-fileid", "\(needed - 1)"]

            let refused = try CLIProcess.run(purge + ["--yes"], in: directory)
            #expect(refused.status != 0)
            #expect(refused.standardError.contains("standby east needs tranlog"), "\(refused.standardError)")
            let recovery = try CLIProcess.run(
                ["tranlog", "purge", "--node", pair.primary.url, "--data", pair.primaryData.path, "--through-fileid", "\(needed)", "--yes", "--force"],
                in: directory)
            #expect(recovery.standardError.contains("crash recovery needs tranlog\(needed).dbf"), "\(recovery.standardError)")

            try StandbyCommandTests.Pair.run(["standbys", "forget", "east", "--node", pair.primary.url, "--data", pair.primaryData.path], in: directory)
            let unconfirmed = try CLIProcess.run(purge, in: directory)
            #expect(unconfirmed.status != 0)
            #expect(unconfirmed.standardError.contains("add --yes"), "\(unconfirmed.standardError)")
            let purged = try CLIProcess.run(purge + ["--yes", "--json"], in: directory)
            #expect(purged.status == 0, "\(purged.standardError)")
            let report = try JSONDecoder().decode(PurgeReport.self, from: Data(purged.standardOutput.utf8))
            #expect(report.removed.count == Int(needed - 1))
            #expect(!FileManager.default.fileExists(atPath: pair.primaryData.appendingPathComponent("tranlogs/tranlog1.dbf").path))

            let returning = try pair.startStandby()
            defer { returning.cleanUp() }
            let rejected = try StandbyCommandTests.waitForStatus(of: returning) { $0.replication?.lastRejection != nil }
            #expect(rejected.replication?.lastRejection?.contains("oldest available is") == true, "\(String(describing: rejected.replication))")

            // On the stopped primary: the list comes from standbys.json, the purge takes the lock.
            #expect(returning.stop(with: SIGTERM) == 0)
            #expect(pair.primary.stop(with: SIGTERM) == 0)
            let listed = try CLIProcess.run(["standbys", "list", "--data", pair.primaryData.path, "--json"], in: directory)
            #expect(listed.status == 0, "\(listed.standardError)")
            #expect(try JSONDecoder().decode([KnownStandby].self, from: Data(listed.standardOutput.utf8)).map(\.nodeID) == [])
            let offline = try CLIProcess.run(["tranlog", "purge", "--data", pair.primaryData.path, "--yes"], in: directory)
            #expect(offline.status == 0, "\(offline.standardError)")
            #expect(offline.standardOutput.contains("kept: crash recovery needs"), "\(offline.standardOutput)")
        }
    }
}
