import Foundation
import Node
import Testing
import Tranlog

/// `understudy standby offline|online` with real processes: what each mode applies, that offline
/// survives a restart, and that a fault blocks `online` until it is cleared.
@Suite("Standby offline and online with real processes", .serialized)
struct StandbyOfflineTests {
    @Test("offline applies what is flushed and survives a restart; online resumes; --at-seqno stops exactly there")
    func offlineAndOnline() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["first": "1"])
            defer { pair.cleanUp() }
            var standby = try pair.startStandby()
            defer { standby.cleanUp() }
            try StandbyCommandTests.put(["second": "2"], on: pair.primary.url)
            try Self.waitCaughtUp(standby, primary: pair.primary)

            let offline = try Self.standbyVerb(["offline"], standby, pair)
            #expect(offline.state == "offline")
            #expect(offline.applied.seqno == offline.flushedSeqno, "default offline applies everything flushed")
            #expect(offline.offline?.reason == .requested)
            // Disconnected: the primary shows no connected standby, so nothing written now can reach it.
            try Self.waitForPrimary(pair.primary) { ($0.standbys ?? []).allSatisfy { $0.state == "disconnected" } }
            try StandbyCommandTests.put(["while-offline": "3"], on: pair.primary.url)
            let text = try CLIProcess.run(["status", "--node", standby.url], in: directory)
            #expect(text.standardOutput.contains("replication: offline from"), "\(text.standardOutput)")
            #expect(field("offline", in: text.standardOutput)?.contains("taken offline by request") == true, "\(text.standardOutput)")

            // Offline is kept in the data directory: a restarted standby stays offline, where it was.
            #expect(standby.stop(with: SIGTERM) == 0)
            standby = try pair.startStandby()
            let restarted = try StandbyCommandTests.client(standby.url) { try $0.status() }
            #expect(restarted.replication?.state == "offline")
            #expect(restarted.repository.applied.seqno == offline.applied.seqno)
            #expect(try StandbyCommandTests.client(standby.url) { try $0.get(key: Array("while-offline".utf8)) } == nil)

            let online = try Self.standbyVerb(["online"], standby, pair)
            #expect(online.state == "online")
            try Self.waitCaughtUp(standby, primary: pair.primary)
            #expect(try StandbyCommandTests.client(standby.url) { try $0.get(key: Array("while-offline".utf8)) }?.value == Array("3".utf8))

            // --at-seqno: applying stops exactly at N although more records arrive, then offline.
            let now = try StandbyCommandTests.client(standby.url) { try $0.status().repository.applied.seqno }
            let stop = Seqno(now.rawValue + 3)
            let pending = try Self.standbyVerb(["offline", "--at-seqno", "\(stop.rawValue)"], standby, pair)
            #expect(pending.state == "going-offline")
            #expect(pending.offlineAtSeqno == stop)
            try StandbyCommandTests.put(Dictionary(uniqueKeysWithValues: (0..<10).map { ("after-stop-\($0)", "\($0)") }), on: pair.primary.url)
            let stopped = try StandbyCommandTests.waitForStatus(of: standby) { $0.replication?.state == "offline" }
            #expect(stopped.repository.applied.seqno == stop, "applied must stop at --at-seqno exactly")
            #expect(stopped.replication?.offline?.detail.contains("reached seqno \(stop)") == true)

            let past = try CLIProcess.run(
                ["standby", "online", "--node", standby.url, "--data", pair.standbyData.path], in: directory)
            #expect(past.status == 0, "\(past.standardError)")
            let refused = try CLIProcess.run(
                ["standby", "offline", "--at-seqno", "1", "--node", standby.url, "--data", pair.standbyData.path], in: directory)
            #expect(refused.status != 0)
            #expect(refused.standardError.contains("already applied through"), "\(refused.standardError)")

            let immediate = try Self.standbyVerb(["offline", "--immediate"], standby, pair)
            #expect(immediate.state == "offline")
            #expect(immediate.applied.seqno <= immediate.flushedSeqno)
            _ = try Self.standbyVerb(["online"], standby, pair)
            try Self.waitCaughtUp(standby, primary: pair.primary)

            // Promote works offline: it applies everything flushed, and the node is no standby any more.
            let beforePromote = try Self.standbyVerb(["offline", "--immediate"], standby, pair)
            let promoted = try CLIProcess.run(["promote", "--node", standby.url, "--data", pair.standbyData.path, "--json"], in: directory)
            let report = try JSONDecoder().decode(PromoteReport.self, from: Data(promoted.standardOutput.utf8))
            #expect(report.promoted)
            #expect(report.applied.seqno == beforePromote.flushedSeqno)
            #expect(!FileManager.default.fileExists(atPath: pair.standbyData.appendingPathComponent("standby.json").path))

            let notStandby = try CLIProcess.run(
                ["standby", "offline", "--node", pair.primary.url, "--data", pair.primaryData.path], in: directory)
            #expect(notStandby.status != 0)
            #expect(notStandby.standardError.contains("not a standby"), "\(notStandby.standardError)")
        }
    }

    @Test("a refusal by the primary takes the standby offline; online refuses naming it until --force")
    func faultBlocksOnline() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["primary-key": "primary value"])
            defer { pair.cleanUp() }
            try FileManager.default.removeItem(at: pair.standbyData)
            try StandbyCommandTests.Pair.run(["init", "--data", pair.standbyData.path, "--source-id", "stranger"], in: directory)
            let standby = try pair.startStandby()
            defer { standby.cleanUp() }

            let faulted = try StandbyCommandTests.waitForStatus(of: standby) { $0.replication?.offline != nil }
            #expect(faulted.replication?.state == "offline")
            #expect(faulted.replication?.offline?.reason == .fault)
            #expect(faulted.replication?.offline?.fault?.kind == .rejected)
            // The rejection names both repositories, and nothing of the primary's reached the standby.
            let rejection = try #require(faulted.replication?.lastRejection)
            let primaryID = try StandbyCommandTests.client(pair.primary.url) { try $0.status().repository.repositoryID }
            #expect(rejection.contains("\(primaryID)") && rejection.contains("\(faulted.repository.repositoryID)"), "\(rejection)")
            #expect(faulted.repository.objectCount == 0)

            let refused = try CLIProcess.run(["standby", "online", "--node", standby.url, "--data", pair.standbyData.path], in: directory)
            #expect(refused.status != 0)
            #expect(refused.standardError.contains("the primary serves repository"), "\(refused.standardError)")
            #expect(refused.standardError.contains("--force"), "\(refused.standardError)")

            // Forced, it tries again, is refused again, and is offline again with the same fault.
            let forced = try Self.standbyVerb(["online", "--force"], standby, pair)
            #expect(forced.state == "online")
            let again = try StandbyCommandTests.waitForStatus(of: standby) {
                $0.replication?.offline?.fault?.kind == .rejected && $0.replication!.offline!.since > faulted.replication!.offline!.since
            }
            #expect(again.replication?.state == "offline")
        }
    }

    @Test("a record that cannot be applied takes the standby offline; online and a restart re-check it until the tranlog is replaced")
    func applyFaultBlocksOnline() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["base": "0"])
            defer { pair.cleanUp() }
            try StandbyCommandTests.put(["later-1": "1", "later-2": "2", "later-3": "3"], on: pair.primary.url)
            #expect(pair.primary.stop(with: SIGTERM) == 0)
            let healthy = directory.appendingPathComponent("healthy")
            #expect(try ExternalBackupTests.copy(pair.primaryData, to: healthy) == 0)

            // Another timeline of the same repository: the older copy restored and committed (epoch 2), then written to.
            let forked = try ServerProcess(data: pair.standbyData, in: directory, extraArguments: ["--restore-mode"])
            defer { forked.cleanUp() }
            let admin = ["--node", forked.url, "--data", pair.standbyData.path]
            try StandbyCommandTests.Pair.run(["restore", "logs"] + admin, in: directory)
            try StandbyCommandTests.Pair.run(["restore", "commit"] + admin, in: directory)
            try StandbyCommandTests.put(Dictionary(uniqueKeysWithValues: (0..<20).map { ("forked-\($0)", "\($0)") }), on: forked.url)
            #expect(forked.stop(with: SIGTERM) == 0)

            // The healthy copy's extents with the forked tranlogs: the record at its position differs.
            let damaged = directory.appendingPathComponent("damaged")
            #expect(try ExternalBackupTests.copy(healthy, to: damaged) == 0)
            try Self.replaceTranlogs(of: damaged, with: pair.standbyData)
            // No primary listens on port 1: only the apply can fail here.
            let arguments = [
                "standby", "--data", damaged.path, "--primary", "127.0.0.1:1",
                "--replication-key-file", directory.appendingPathComponent("key").path, "--http", "127.0.0.1:0",
            ]
            var standby = try ServerProcess(arguments + ["--offline"], in: directory)
            defer { standby.cleanUp() }
            let online = ["standby", "online", "--node", standby.url, "--data", damaged.path]
            try StandbyCommandTests.Pair.run(online, in: directory)
            let faulted = try StandbyCommandTests.waitForStatus(of: standby) { $0.replication?.offline?.fault != nil }
            #expect(faulted.replication?.offline?.fault?.kind == .apply)
            #expect(faulted.replication?.offline?.fault?.message.contains("another timeline") == true, "\(String(describing: faulted.replication?.offline))")

            let refused = try CLIProcess.run(online, in: directory)
            #expect(refused.status != 0)
            #expect(refused.standardError.contains("applying the mirror still fails"), "\(refused.standardError)")

            // A restart re-checks the fault: still there, the standby is offline again at once.
            #expect(standby.stop(with: SIGTERM) == 0)
            standby = try ServerProcess(arguments, in: directory)
            let again = try StandbyCommandTests.waitForStatus(of: standby) { $0.replication?.offline?.fault != nil }
            #expect(again.replication?.offline?.fault?.kind == .apply)

            // With the primary's tranlogs back, the restarted standby applies them and stays online.
            #expect(standby.stop(with: SIGTERM) == 0)
            try Self.replaceTranlogs(of: damaged, with: healthy)
            standby = try ServerProcess(arguments, in: directory)
            let lastHealthy = try ExternalBackupTests.lastSeqno(in: healthy, directory: directory)
            let fixed = try StandbyCommandTests.waitForStatus(of: standby) { $0.repository.applied.seqno == lastHealthy }
            #expect(fixed.replication?.offline == nil)
            #expect(!FileManager.default.fileExists(atPath: damaged.appendingPathComponent("standby.json").path))
            #expect(try StandbyCommandTests.client(standby.url) { try $0.get(key: Array("later-3".utf8)) }?.value == Array("3".utf8))
        }
    }

    @Test("a corrupt standby.json is refused at start, naming it, rather than guessing online or offline")
    func corruptStateFile() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["only": "one"])
            defer { pair.cleanUp() }
            try Data("{\"offline\": ".utf8).write(to: pair.standbyData.appendingPathComponent("standby.json"))
            let standby = try ExternalBackupTests.startStandby(pair, mayBeRefused: true)
            defer { standby.cleanUp() }
            #expect(standby.refused)
            #expect(standby.exitStatus == 78)
            #expect(standby.log.contains("standby.json is unreadable or corrupt"), "\(standby.log)")
        }
    }

    static func replaceTranlogs(of data: URL, with source: URL) throws {
        let tranlogs = data.appendingPathComponent("tranlogs")
        try FileManager.default.removeItem(at: tranlogs)
        #expect(try ExternalBackupTests.copy(source.appendingPathComponent("tranlogs"), to: tranlogs) == 0)
    }

    /// Runs `understudy standby VERB… --json` against the standby and decodes its report.
    static func standbyVerb(_ arguments: [String], _ standby: ServerProcess, _ pair: StandbyCommandTests.Pair) throws -> StandbyModeReport {
        let result = try CLIProcess.run(
            ["standby"] + arguments + ["--node", standby.url, "--data", pair.standbyData.path, "--json"], in: pair.directory)
        try #require(result.status == 0, "\(arguments): \(result.standardError)")
        return try JSONDecoder().decode(StandbyModeReport.self, from: Data(result.standardOutput.utf8))
    }

    /// Waits until the standby applied the primary's last seqno.
    @discardableResult
    static func waitCaughtUp(_ standby: ServerProcess, primary: ServerProcess, deadline: TimeInterval = 60) throws -> NodeStatus {
        let target = try StandbyCommandTests.client(primary.url) { try $0.status().repository.applied.seqno }
        return try StandbyCommandTests.waitForStatus(of: standby, deadline: deadline) { $0.repository.applied.seqno >= target }
    }

    static func waitForPrimary(_ primary: ServerProcess, _ condition: (NodeStatus) -> Bool) throws {
        _ = try StandbyCommandTests.waitForStatus(of: primary, condition)
    }
}
