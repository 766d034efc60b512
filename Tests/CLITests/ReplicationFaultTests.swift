import Foundation
import Node
import Testing
import Tranlog

/// Lag, refusals and faults where they matter, with real processes: a standby that lost its
/// primary, one pointed at the wrong port, one refused as forked, one whose disk filled up.
@Suite("Lag and replication faults with real processes", .serialized)
struct ReplicationFaultTests {
    @Test("the primary's lag for a standby agrees with the standby's under load; killed, the standby's lag grows and it is not caught up")
    func lagAgreesAndGrowsWhenThePrimaryDies() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["first": "1"])
            defer { pair.cleanUp() }
            let standby = try pair.startStandby()
            defer { standby.cleanUp() }
            try StandbyOfflineTests.waitCaughtUp(standby, primary: pair.primary)

            // A light, steady load: the primary used to count seconds since the standby last equalled
            // its last seqno, which under load it rarely does, and showed seconds for a standby ms behind.
            for client in 0..<6 {
                Thread {
                    try? StandbyCommandTests.put(Dictionary(uniqueKeysWithValues: (0..<300).map { ("load-\(client)-\($0)", "\($0)") }), on: pair.primary.url)
                }.start()
            }
            var primaryMax = 0.0
            var standbyMax = 0.0
            for _ in 0..<30 {
                let row = try StandbyCommandTests.client(pair.primary.url) { try $0.status().standbys?.first }
                let own = try StandbyCommandTests.client(standby.url) { try $0.status().replication?.applied.secondsBehind }
                primaryMax = max(primaryMax, row?.lagSeconds ?? 0)
                standbyMax = max(standbyMax, own ?? 0)
                Thread.sleep(forTimeInterval: 0.1)
            }
            #expect(primaryMax <= standbyMax + 0.5, "the primary saw \(primaryMax) s, the standby at most \(standbyMax) s")
            try StandbyOfflineTests.waitCaughtUp(standby, primary: pair.primary)
            let settled = try StandbyCommandTests.waitForStatus(of: pair.primary) { $0.standbys?.first?.lagSeconds == 0 }
            #expect(settled.standbys?.first?.appliedTime != nil)

            pair.primary.stop(with: SIGKILL)
            let cutOff = try StandbyCommandTests.waitForStatus(of: standby) { ($0.replication?.applied.secondsBehind ?? 0) >= 2 }
            let replication = try #require(cutOff.replication)
            #expect(["disconnected", "stalled"].contains(replication.state), "\(replication.state)")
            #expect((replication.secondsSincePrimaryContact ?? 0) >= 2)
            #expect(replication.apply?.catchUpSeconds == nil, "not 'caught up' while cut off")
            let later = try StandbyCommandTests.waitForStatus(of: standby) {
                ($0.replication?.applied.secondsBehind ?? 0) >= (replication.applied.secondsBehind ?? 0) + 1
            }
            #expect(later.replication?.state == replication.state)
            let text = try CLIProcess.run(["status", "--node", standby.url], in: directory).standardOutput
            #expect(field("primary", in: text)?.hasPrefix("last heard") == true, "\(text)")
            let metrics = try StandbyCommandTests.client(standby.url) { try $0.metrics() }
            #expect(metrics.contains("understudy_replication_primary_contact_age_seconds"), "\(metrics)")
        }
    }

    @Test("a standby given the primary's HTTP port says so at once, in a base copy and streaming, and logs it once")
    func httpPortAsPrimary() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["only": "one"])
            defer { pair.cleanUp() }
            let httpPort = try #require(pair.primary.fields["http"])
            let expected = "\(httpPort) is not an Understudy replication port (it answered like HTTP)"

            // An empty directory: the base copy.
            let copying = try ServerProcess([
                "standby", "--data", directory.appendingPathComponent("empty").path, "--primary", httpPort,
                "--replication-key-file", directory.appendingPathComponent("key").path, "--http", "127.0.0.1:0",
            ], in: directory, awaitReady: false)
            defer { copying.cleanUp() }
            try BaseCopyTests.waitForLog(of: copying, containing: "serving GET /status during the base copy", deadline: 20)
            let statusURL = try #require(BaseCopyTests.statusServer(in: copying.log))
            let deadline = Date().addingTimeInterval(20)
            var phase = try BaseCopyTests.phaseStatus(statusURL)
            while phase.baseCopy.attempts < 3 {
                try #require(Date() < deadline, "\(phase.baseCopy), log:\n\(copying.log)")
                Thread.sleep(forTimeInterval: 0.1)
                phase = try BaseCopyTests.phaseStatus(statusURL)
            }
            #expect(phase.baseCopy.lastError?.contains(expected) == true, "\(phase.baseCopy)")
            #expect(copying.log.components(separatedBy: expected).count - 1 == 1, "logged once:\n\(copying.log)")

            // An existing standby directory: streaming.
            let streaming = try ServerProcess([
                "standby", "--data", pair.standbyData.path, "--primary", httpPort,
                "--replication-key-file", directory.appendingPathComponent("key").path, "--http", "127.0.0.1:0",
            ], in: directory)
            defer { streaming.cleanUp() }
            let refused = try StandbyCommandTests.waitForStatus(of: streaming) { ($0.replication?.refusal?.count ?? 0) >= 2 }
            #expect(refused.replication?.refusal?.message.hasPrefix(expected) == true, "\(String(describing: refused.replication?.refusal))")
            #expect(refused.replication?.state == "disconnected")
            #expect(streaming.log.components(separatedBy: expected).count - 1 == 1, "logged once:\n\(streaming.log)")
        }
    }

    /// The classic fork: the old primary wrote past the point where its copy opened epoch 2, then is
    /// pointed at that copy, now the primary. (A node presenting a newer epoch to an old primary
    /// fences it instead: see FencingTests.)
    @Test("a standby refused as forked logs the refusal once, goes offline and shows it")
    func forkedStandbyLogsOnce() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["base": "0"])
            defer { pair.cleanUp() }
            // The copy restored and committed on its own (epoch 2): the new primary.
            let forked = try ServerProcess(data: pair.standbyData, in: directory, extraArguments: ["--restore-mode"])
            defer { forked.cleanUp() }
            let admin = ["--node", forked.url, "--data", pair.standbyData.path]
            try StandbyCommandTests.Pair.run(["restore", "logs"] + admin, in: directory)
            try StandbyCommandTests.Pair.run(["restore", "commit"] + admin, in: directory)
            #expect(forked.stop(with: SIGTERM) == 0)
            // The old primary writes past the fork, then stops.
            try StandbyCommandTests.put(["primary-only": "2"], on: pair.primary.url)
            #expect(pair.primary.stop(with: SIGTERM) == 0)
            let key = directory.appendingPathComponent("key").path
            let newPrimary = try ServerProcess([
                "start", "--data", pair.standbyData.path, "--http", "127.0.0.1:0", "--replication", "127.0.0.1:0", "--replication-key-file", key,
            ], in: directory)
            defer { newPrimary.cleanUp() }

            let standby = try ServerProcess([
                "standby", "--data", pair.primaryData.path, "--primary", newPrimary.fields["replication"] ?? "?", "--replication-key-file", key,
                "--http", "127.0.0.1:0",
            ], in: directory)
            defer { standby.cleanUp() }
            let refused = try StandbyCommandTests.waitForStatus(of: standby) { $0.replication?.refusal != nil }
            let refusal = try #require(refused.replication?.refusal)
            #expect(refusal.message.contains("fork in time"), "\(refusal.message)")
            Thread.sleep(forTimeInterval: 3)  // what a spinning standby would fill with refusals
            let after = try StandbyCommandTests.client(standby.url) { try $0.status() }
            #expect(after.replication?.state == "offline", "\(String(describing: after.replication))")
            #expect(after.replication?.refusal?.since == refusal.since)
            #expect(standby.log.components(separatedBy: "fork in time").count - 1 <= 2, "the refusal (and the fault) once:\n\(standby.log)")
            #expect(newPrimary.log.components(separatedBy: "refusing standby").count - 1 == 1, "\(newPrimary.log)")
        }
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        guard let finished = try? ChildProcess.run(tool, arguments) else { return -1 }
        return finished.termination.status
    }

    /// Fills a real disk: a 16 MiB tmpfs mounted under the test's directory (CI runs as root; where
    /// mounting is not allowed the test fails, it does not skip).
    @Test("a full disk under the mirror is a fault: shown, in metrics, online refused until space is freed, then it catches up without a restart")
    func fullDiskFaultRecoversWithoutRestart() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["base": "0"])
            defer { pair.cleanUp() }
            let disk = directory.appendingPathComponent("small-disk")
            try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: false)
            try #require(Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", disk.path]) == 0)
            defer { Self.run("/bin/umount", ["-l", disk.path]) }
            let data = disk.appendingPathComponent("standby")
            #expect(try ExternalBackupTests.copy(pair.standbyData, to: data) == 0)
            let standby = try ServerProcess([
                "standby", "--data", data.path, "--primary", pair.primary.fields["replication"] ?? "?",
                "--replication-key-file", directory.appendingPathComponent("key").path, "--http", "127.0.0.1:0",
            ], in: directory)
            defer { standby.cleanUp() }
            try StandbyOfflineTests.waitCaughtUp(standby, primary: pair.primary)

            // Leave about 64 KiB free, then ship more than that.
            let filler = disk.appendingPathComponent("filler")
            let free = try Self.freeBytes(disk)
            try Data(count: max(0, free - 64 * 1024)).write(to: filler)
            let big = String(repeating: "x", count: 16 * 1024)
            try StandbyCommandTests.put(Dictionary(uniqueKeysWithValues: (0..<40).map { ("big-\($0)", big) }), on: pair.primary.url)

            let faulted = try StandbyCommandTests.waitForStatus(of: standby) { $0.replication?.offline?.fault != nil }
            #expect(faulted.replication?.offline?.fault?.kind == .mirrorWrite, "\(String(describing: faulted.replication?.offline))")
            #expect(faulted.replication?.state == "offline")
            #expect(faulted.replication?.receiver.hasPrefix("failed") == true, "\(String(describing: faulted.replication?.receiver))")
            let metrics = try StandbyCommandTests.client(standby.url) { try $0.metrics() }
            #expect(metrics.contains("understudy_replication_fault{kind=\"mirrorWrite\"} 1"), "\(metrics)")
            let online = ["standby", "online", "--node", standby.url, "--data", data.path]
            let refused = try CLIProcess.run(online, in: directory)
            #expect(refused.status != 0)
            #expect(refused.standardError.contains("the mirror still cannot be written"), "\(refused.standardError)")

            try FileManager.default.removeItem(at: filler)
            let accepted = try CLIProcess.run(online, in: directory)
            #expect(accepted.status == 0, "\(accepted.standardError)")
            let caughtUp = try StandbyOfflineTests.waitCaughtUp(standby, primary: pair.primary)
            #expect(caughtUp.replication?.offline == nil)
            #expect(standby.process.isRunning, "recovered without a restart")
            #expect(try StandbyCommandTests.client(standby.url) { try $0.get(key: Array("big-39".utf8)) }?.value == Array(big.utf8))
            #expect(try StandbyCommandTests.client(standby.url) { try $0.metrics() }.contains("understudy_replication_fault{kind=\"mirrorWrite\"} 0"))
        }
    }

    static func freeBytes(_ url: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfFileSystem(forPath: url.path)
        return (attributes[.systemFreeSize] as? NSNumber)?.intValue ?? 0
    }
}
