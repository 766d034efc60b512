import Foundation
import Node
import Testing
import Tranlog

/// `standby run --apply-delay` and `standby pause|resume` with real processes: recovering from a bad
/// change with a delayed standby, the delay holding across a restart, a pause kept across kill -9,
/// and the inputs refused.
@Suite("Delayed standby, pause and resume with real processes", .serialized)
struct DelayedStandbyTests {
    @Test("the story: a bad delete on the primary, the delayed standby paused just before it and promoted with the keys")
    func recoverFromBadDelete() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["base": "0"])
            defer { pair.cleanUp() }
            let standby = try Self.startStandby(pair, ["--apply-delay", "5"])
            defer { standby.cleanUp() }
            let precious = (0..<5).map { "precious-\($0)" }
            try StandbyCommandTests.put(Dictionary(uniqueKeysWithValues: precious.map { ($0, "kept") }), on: pair.primary.url)
            let beforeDelete = try StandbyCommandTests.client(pair.primary.url) { try $0.status().repository.applied }
            let lastGoodTime = try #require(beforeDelete.time)
            // The delay (5 s) is waited for by polling: the standby applies the writes once they are old enough.
            _ = try StandbyCommandTests.waitForStatus(of: standby, deadline: 20) { $0.repository.applied.seqno >= beforeDelete.seqno }

            // The bad change: several keys deleted on the primary.
            try StandbyCommandTests.client(pair.primary.url) { client in
                for key in precious { _ = try client.delete(key: Array(key.utf8)) }
            }
            let afterDelete = try StandbyCommandTests.client(pair.primary.url) { try $0.status().repository.applied.seqno }
            let held = try StandbyCommandTests.waitForStatus(of: standby) { ($0.replication?.flushed.seqno ?? .zero) >= afterDelete }
            // Flushed at once, applied later: the keys still read on the standby.
            try Self.expectReadable(precious, on: standby)
            #expect(held.repository.applied.seqno < afterDelete, "the delete must be held by the delay")
            #expect((held.replication?.delay?.heldRecords ?? 0) > 0, "\(String(describing: held.replication?.delay))")

            let paused = try Self.standbyVerb(["pause"], standby, pair)
            #expect(paused.paused?.untilTime == nil && paused.paused?.untilSeqno == nil)
            let atTarget = try Self.standbyVerb(["pause", "--until-time", lastGoodTime.iso8601], standby, pair)
            #expect(atTarget.paused?.untilTime == lastGoodTime)
            let reached = try StandbyCommandTests.waitForStatus(of: standby, deadline: 30) { $0.replication?.paused?.reachedTarget == true }
            #expect(reached.repository.applied.seqno == beforeDelete.seqno, "applied stops after the last commit at or before the time")
            #expect(reached.replication?.paused?.appliedSeqno == beforeDelete.seqno)
            try Self.expectReadable(precious, on: standby)
            let text = try CLIProcess.run(["status", "--node", standby.url], in: directory)
            #expect(field("paused", in: text.standardOutput)?.contains("reached its target") == true, "\(text.standardOutput)")
            #expect(field("apply delay", in: text.standardOutput)?.contains("records held") == true, "\(text.standardOutput)")
            let metrics = try StandbyCommandTests.client(standby.url) { try $0.metrics() }
            let lines = metrics.split(separator: "\n")
            #expect(lines.contains("understudy_replication_apply_paused 1.0"), "\(metrics)")
            #expect(lines.contains("understudy_replication_apply_delay_seconds 5.0"), "\(metrics)")
            #expect(lines.contains("understudy_replication_held_records \(beforeDelete.seqno.distance(to: afterDelete)).0"), "\(metrics)")

            let promoted = try CLIProcess.run(["promote", "--node", standby.url, "--data", pair.standbyData.path, "--json"], in: directory)
            try #require(promoted.status == 0, "\(promoted.standardError)")
            let report = try JSONDecoder().decode(PromoteReport.self, from: Data(promoted.standardOutput.utf8))
            #expect(report.promoted)
            #expect(report.applied.seqno == beforeDelete.seqno)
            let discarded = try #require(report.discarded, "\(report.message)")
            #expect(discarded.fromSeqno == beforeDelete.seqno.next && discarded.throughSeqno == afterDelete)
            // The deletes, and whatever else the primary logged after them (seqnos count every record).
            #expect(discarded.records == beforeDelete.seqno.distance(to: afterDelete) && discarded.records >= UInt64(precious.count))
            #expect(!discarded.setAside.isEmpty && discarded.setAside.allSatisfy { $0.contains("set-aside-before-epoch-") })
            #expect(report.message.contains("seqno \(beforeDelete.seqno.next)…\(afterDelete)"), "\(report.message)")
            for path in discarded.setAside { #expect(FileManager.default.fileExists(atPath: path), "\(path)") }

            // The promoted node has the keys and takes writes.
            try Self.expectReadable(precious, on: standby)
            try StandbyCommandTests.put(["after-promote": "new"], on: standby.url)
            #expect(try StandbyCommandTests.client(standby.url) { try $0.get(key: Array("after-promote".utf8)) }?.value == Array("new".utf8))
        }
    }

    @Test("the delay holds apply behind flush until the horizon passes, also after a kill -9 and restart")
    func delayHoldsAcrossRestart() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["base": "0"])
            defer { pair.cleanUp() }
            var standby = try Self.startStandby(pair, ["--apply-delay", "4"])
            defer { standby.cleanUp() }
            try StandbyCommandTests.put(["delayed": "1"], on: pair.primary.url)
            let primary = try StandbyCommandTests.client(pair.primary.url) { try $0.status().repository.applied }
            let committed = try #require(primary.time)
            let held = try StandbyCommandTests.waitForStatus(of: standby) { ($0.replication?.flushed.seqno ?? .zero) >= primary.seqno }
            let delay = try #require(held.replication?.delay)
            #expect(delay.seconds == 4)
            #expect(held.repository.applied.seqno < primary.seqno)
            #expect(delay.heldRecords > 0 && delay.heldThroughSeqno == primary.seqno, "\(delay)")
            #expect(delay.horizon < committed, "a held record was committed after the horizon")
            #expect(try StandbyCommandTests.client(standby.url) { try $0.get(key: Array("delayed".utf8)) } == nil)

            // kill -9 with the record held: the mirror has it, the restarted standby holds it still.
            #expect(standby.stop(with: SIGKILL) != 0)
            standby = try Self.startStandby(pair, ["--apply-delay", "4"])
            let restarted = try StandbyCommandTests.client(standby.url) { try $0.status() }
            if restarted.repository.applied.seqno < primary.seqno {
                #expect(try StandbyCommandTests.client(standby.url) { try $0.get(key: Array("delayed".utf8)) } == nil)
                #expect((restarted.replication?.delay?.heldRecords ?? 0) > 0)
            } else {
                // Applied already: then only because the horizon had passed its commit time.
                #expect((restarted.replication?.delay?.horizon ?? committed) >= committed)
            }
            let applied = try StandbyCommandTests.waitForStatus(of: standby, deadline: 30) { $0.repository.applied.seqno >= primary.seqno }
            #expect((applied.replication?.delay?.horizon ?? committed) >= committed, "applied only once the horizon passed its commit time")
            #expect(try StandbyCommandTests.client(standby.url) { try $0.get(key: Array("delayed".utf8)) }?.value == Array("1".utf8))
        }
    }

    @Test("pause and resume: kept across kill -9; --until-seqno stops exactly there; a promote of a plain pause is refused")
    func pauseResumeAcrossRestart() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["base": "0"])
            defer { pair.cleanUp() }
            var standby = try Self.startStandby(pair, [])
            defer { standby.cleanUp() }
            try StandbyOfflineTests.waitCaughtUp(standby, primary: pair.primary)
            let paused = try Self.standbyVerb(["pause"], standby, pair)
            let stoppedAt = paused.applied.seqno
            try StandbyCommandTests.put(Dictionary(uniqueKeysWithValues: (0..<6).map { ("while-paused-\($0)", "\($0)") }), on: pair.primary.url)
            let last = try StandbyCommandTests.client(pair.primary.url) { try $0.status().repository.applied.seqno }
            let flushed = try StandbyCommandTests.waitForStatus(of: standby) { ($0.replication?.flushed.seqno ?? .zero) >= last }
            #expect(flushed.repository.applied.seqno == stoppedAt, "paused: receiving goes on, applying does not")
            #expect(flushed.replication?.paused?.reachedTarget == false && flushed.replication?.paused?.untilSeqno == nil)

            #expect(standby.stop(with: SIGKILL) != 0)
            standby = try Self.startStandby(pair, [])
            let restarted = try StandbyCommandTests.waitForStatus(of: standby) { $0.repository.applied.seqno >= stoppedAt }
            #expect(restarted.replication?.paused != nil, "the pause is kept in standby.json")
            _ = try StandbyCommandTests.waitForStatus(of: standby) { ($0.replication?.flushed.seqno ?? .zero) >= last }
            #expect(try StandbyCommandTests.client(standby.url) { try $0.status().repository.applied.seqno } == stoppedAt)
            #expect(try StandbyCommandTests.client(standby.url) { try $0.get(key: Array("while-paused-0".utf8)) } == nil)

            let refused = try CLIProcess.run(["promote", "--node", standby.url, "--data", pair.standbyData.path], in: directory)
            #expect(refused.status != 0)
            #expect(refused.standardError.contains("standby resume") && refused.standardError.contains("--until-seqno"), "\(refused.standardError)")

            let stop = Seqno(stoppedAt.rawValue + 2)
            let pending = try Self.standbyVerb(["pause", "--until-seqno", "\(stop.rawValue)"], standby, pair)
            #expect(pending.paused?.untilSeqno == stop)
            let reached = try StandbyCommandTests.waitForStatus(of: standby) { $0.replication?.paused?.reachedTarget == true }
            #expect(reached.repository.applied.seqno == stop, "applied stops at --until-seqno exactly")

            #expect(standby.stop(with: SIGKILL) != 0)
            standby = try Self.startStandby(pair, [])
            let again = try StandbyCommandTests.waitForStatus(of: standby) { $0.repository.applied.seqno >= stop }
            #expect(again.replication?.paused?.reachedTarget == true && again.replication?.paused?.untilSeqno == stop)
            _ = try StandbyCommandTests.waitForStatus(of: standby) { ($0.replication?.flushed.seqno ?? .zero) >= last }
            #expect(try StandbyCommandTests.client(standby.url) { try $0.status().repository.applied.seqno } == stop)

            // Offline and online keep the pause: the default offline applies nothing past it either.
            let offline = try Self.standbyVerb(["offline"], standby, pair)
            #expect(offline.applied.seqno == stop && offline.paused?.reachedTarget == true)
            let online = try Self.standbyVerb(["online"], standby, pair)
            #expect(online.paused?.untilSeqno == stop && online.applied.seqno == stop)

            let resumed = try Self.standbyVerb(["resume"], standby, pair)
            #expect(resumed.paused == nil)
            let caughtUp = try StandbyOfflineTests.waitCaughtUp(standby, primary: pair.primary)
            #expect(caughtUp.replication?.paused == nil)
            #expect(try StandbyCommandTests.client(standby.url) { try $0.get(key: Array("while-paused-5".utf8)) }?.value == Array("5".utf8))
            #expect(!FileManager.default.fileExists(atPath: pair.standbyData.appendingPathComponent("standby.json").path))
        }
    }

    @Test("bad inputs: a negative delay, a malformed or passed target, both targets, a pause on a primary")
    func badInputs() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["base": "0"])
            defer { pair.cleanUp() }
            let negative = try CLIProcess.run([
                "standby", "--data", pair.standbyData.path, "--primary", pair.primary.fields["replication"] ?? "?",
                "--replication-key-file", directory.appendingPathComponent("key").path, "--http", "127.0.0.1:0", "--apply-delay=-5",
            ], in: directory)
            #expect(negative.status != 0)
            #expect(negative.standardError.contains("'-5' is invalid for '--apply-delay <SECONDS>': give a number of seconds of 0 or more"), "\(negative.standardError)")

            let standby = try Self.startStandby(pair, [])
            defer { standby.cleanUp() }
            try StandbyOfflineTests.waitCaughtUp(standby, primary: pair.primary)
            let admin = ["--node", standby.url, "--data", pair.standbyData.path]
            let badTime = try CLIProcess.run(["standby", "pause", "--until-time", "yesterday"] + admin, in: directory)
            #expect(badTime.status != 0)
            #expect(badTime.standardError.contains("'yesterday' is not an ISO 8601 time"), "\(badTime.standardError)")
            let both = try CLIProcess.run(["standby", "pause", "--until-time", "2026-01-01T00:00:00Z", "--until-seqno", "9"] + admin, in: directory)
            #expect(both.status != 0)
            #expect(both.standardError.contains("--until-seqno and --until-time exclude each other"), "\(both.standardError)")

            // The HTTP API checks the same, naming the field.
            let token = try String(contentsOf: pair.standbyData.appendingPathComponent("admin.token"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            for (request, expected) in [
                (StandbyPauseRequest(untilTime: "2026-13-45"), "untilTime: '2026-13-45' is not an RFC 3339 time"),
                (StandbyPauseRequest(untilSeqno: Seqno(1), untilTime: "2026-01-01T00:00:00Z"), "give at most one of them"),
            ] {
                do {
                    _ = try StandbyCommandTests.client(standby.url) { try $0.standbyPause(request, token: token) }
                    Issue.record("\(request) was accepted")
                } catch let error as NodeClientError {
                    guard case .refused(let status, _, let detail) = error else { throw error }
                    #expect(status == 400 && detail.contains(expected), "\(status) \(detail)")
                }
            }
            let applied = try StandbyCommandTests.client(standby.url) { try $0.status().repository.applied }
            let passedSeqno = try CLIProcess.run(["standby", "pause", "--until-seqno", "1"] + admin, in: directory)
            #expect(passedSeqno.status != 0)
            #expect(passedSeqno.standardError.contains("already applied through seqno \(applied.seqno)"), "\(passedSeqno.standardError)")
            let passedTime = try CLIProcess.run(["standby", "pause", "--until-time", "2000-01-01T00:00:00Z"] + admin, in: directory)
            #expect(passedTime.status != 0)
            #expect(passedTime.standardError.contains("already applied through seqno"), "\(passedTime.standardError)")
            #expect(try StandbyCommandTests.client(standby.url) { try $0.status().replication?.paused } == nil, "a refused pause changes nothing")

            let onPrimary = try CLIProcess.run(["standby", "pause", "--node", pair.primary.url, "--data", pair.primaryData.path], in: directory)
            #expect(onPrimary.status != 0)
            #expect(onPrimary.standardError.contains("not a standby"), "\(onPrimary.standardError)")
        }
    }

    static func startStandby(_ pair: StandbyCommandTests.Pair, _ arguments: [String]) throws -> ServerProcess {
        try ServerProcess([
            "standby", "--data", pair.standbyData.path, "--primary", pair.primary.fields["replication"] ?? "?",
            "--replication-key-file", pair.directory.appendingPathComponent("key").path, "--http", "127.0.0.1:0",
        ] + arguments, in: pair.directory)
    }

    static func standbyVerb(_ arguments: [String], _ standby: ServerProcess, _ pair: StandbyCommandTests.Pair) throws -> StandbyModeReport {
        try StandbyOfflineTests.standbyVerb(arguments, standby, pair)
    }

    static func expectReadable(_ keys: [String], on node: ServerProcess) throws {
        for key in keys {
            let value = try StandbyCommandTests.client(node.url) { try $0.get(key: Array(key.utf8)) }?.value
            #expect(value == Array("kept".utf8), "\(key)")
        }
    }
}
