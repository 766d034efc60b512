import Foundation
import Testing
import Tranlog

/// `understudy position show|set` against real processes: a running node, a `cp -a` copy of it, the
/// stopped node.
@Suite struct PositionCommandTests {
    @Test func showOnAFreshDirectory() throws {
        try withTemporaryDirectory { directory in
            let data = directory.appendingPathComponent("data").path
            try #require(try CLIProcess.run(["init", "--data", data], in: directory).status == 0)
            let shown = try CLIProcess.run(["position", "show", "--data", data], in: directory)
            #expect(shown.status == 0, "\(shown.standardError)")
            #expect(field("applied seqno", in: shown.standardOutput) == "0")
            #expect(field("last record", in: shown.standardOutput) == "none")
            #expect(field("restore mode", in: shown.standardOutput) == "no")
            #expect(field("coverage", in: shown.standardOutput)?.hasPrefix("the tranlogs hold no records yet") == true)
            let json = try CLIProcess.run(["position", "show", "--data", data, "--json"], in: directory)
            let report = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
            #expect((report["lock"] as? [String: Any])?["heldByLiveProcess"] as? Bool == false)
        }
    }

    @Test func showOnARunningNodeAndACopyThenSetOnceStopped() throws {
        try withTemporaryDirectory { directory in
            let data = directory.appendingPathComponent("data")
            try #require(try CLIProcess.run(["init", "--data", data.path], in: directory).status == 0)
            let node = try ServerProcess(data: data, in: directory)
            defer { node.cleanUp() }
            for index in 1...5 {
                try #require(try CLIProcess.run(["put", "k\(index)", "v\(index)", "--node", node.url], in: directory).status == 0)
            }
            try #require(try CLIProcess.run(["checkpoint", "--data", data.path, "--node", node.url], in: directory).status == 0)

            let live = try CLIProcess.run(["position", "show", "--data", data.path], in: directory)
            #expect(field("lock", in: live.standardOutput)?.hasPrefix("locked by a running process") == true, "\(live.standardOutput)")
            #expect(field("applied seqno", in: live.standardOutput) == "5")
            #expect(field("applied record", in: live.standardOutput)?.hasPrefix("the same record") == true)

            let copy = directory.appendingPathComponent("copy")
            try copyPreservingEverything(data, to: copy)
            let copied = try CLIProcess.run(["position", "show", "--data", copy.path], in: directory)
            #expect(copied.status == 0, "\(copied.standardError)")
            #expect(field("lock", in: copied.standardOutput)?.hasPrefix("not locked") == true)
            #expect(field("applied seqno", in: copied.standardOutput) == "5")

            let whileRunning = try CLIProcess.run(["position", "set", "--data", data.path, "--seqno", "3", "--epoch", "1"], in: directory)
            #expect(whileRunning.status == 1)
            #expect(whileRunning.standardError.contains("stop the node (or take the standby offline and stop it) first"))
            #expect(node.stop(with: SIGTERM) == 0)

            try expectSetRefusalsAndForce(data: data.path, in: directory)
        }
    }

    private func expectSetRefusalsAndForce(data: String, in directory: URL) throws {
        func set(_ arguments: String...) throws -> CLIProcess.Result {
            try CLIProcess.run(["position", "set", "--data", data] + arguments, in: directory)
        }
        let accepted = try set("--seqno", "3", "--epoch", "1")
        #expect(accepted.status == 0, "\(accepted.standardError)")
        #expect(field("taken from", in: accepted.standardOutput)?.hasPrefix("the local record at tranlog1.dbf:") == true)
        let shown = try CLIProcess.run(["position", "show", "--data", data], in: directory)
        #expect(field("applied seqno", in: shown.standardOutput) == "3")

        let refusals: [([String], String)] = [
            (["--seqno", "3", "--epoch", "2"], "epoch 2 is not in the epoch history"),
            (["--seqno", "3", "--epoch", "1", "--event-id", "tranlog1.dbf:128"], "with event id tranlog1.dbf:"),
            (["--seqno", "3", "--epoch", "1", "--record-crc", "0x1"], "with CRC 0x"),
            (["--seqno", "1000", "--epoch", "1", "--event-id", "tranlog1.dbf:128", "--record-crc", "0x1"], "tranlog1.dbf:128 is the record of seqno 1"),
            (["--seqno", "1000", "--epoch", "1"], "--record-crc"),
            (["--seqno", "1000", "--epoch", "1", "--force"], "--record-crc"),
            (["--seqno", "0", "--epoch", "1"], "seqno 0 is the position of an empty repository"),
        ]
        for (arguments, message) in refusals {
            let refused = try CLIProcess.run(["position", "set", "--data", data] + arguments, in: directory)
            #expect(refused.status == 1, "\(arguments)")
            #expect(refused.standardError.contains(message), "\(arguments): \(refused.standardError)")
        }
        #expect(field("applied seqno", in: try CLIProcess.run(["position", "show", "--data", data], in: directory).standardOutput) == "3")

        let forced = try set("--seqno", "1000", "--epoch", "1", "--record-crc", "0x00abcdef", "--force", "--json")
        #expect(forced.status == 0, "\(forced.standardError)")
        let change = try #require(try JSONSerialization.jsonObject(with: Data(forced.standardOutput.utf8)) as? [String: Any])
        #expect((change["stored"] as? [String: Any])?["recordCRC"] as? Int == 0xABCDEF)
        #expect((change["notes"] as? [String])?.contains { $0.contains("not in restore mode") } == true)
    }

    /// `cp -a`, as an operator copies a running node's directory.
    private func copyPreservingEverything(_ source: URL, to target: URL) throws {
        let copy = try ChildProcess.run("/bin/cp", ["-a", source.path, target.path])
        try #require(copy.termination.succeeded, "\(String(decoding: copy.errors, as: UTF8.self))")
    }
}
