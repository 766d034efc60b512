import Foundation
import Node
import Testing

/// The external-backup procedure end to end (Tungsten's "dsctl set" on a replica): a standby made
/// from a copy of its primary's data without tranlogs, positioned with `position set` from what
/// `tranlog find --node` prints on the primary. A wrong CRC is refused by the primary, visibly.
@Suite struct PositionStandbyTests {
    @Test func aStandbyPositionedWithTheCRCFromThePrimaryCatchesUp() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["before": "copy"])
            defer { pair.cleanUp() }
            let standbyData = pair.standbyData.path
            // The external backup holds the data only: no tranlogs.
            let tranlogs = pair.standbyData.appendingPathComponent("tranlogs")
            for name in try FileManager.default.contentsOfDirectory(atPath: tranlogs.path) {
                try FileManager.default.removeItem(at: tranlogs.appendingPathComponent(name))
            }
            let shown = try CLIProcess.run(["position", "show", "--data", standbyData], in: directory)
            let seqno = try #require(field("applied seqno", in: shown.standardOutput))
            #expect(field("coverage", in: shown.standardOutput)?.hasPrefix("NO: no tranlog files") == true, "\(shown.standardOutput)")
            try StandbyCommandTests.put(["after": "stream"], on: pair.primary.url)

            // A wrong CRC (forced: it is the only check here) reaches the primary, which refuses the standby.
            let wrong = try CLIProcess.run(
                ["position", "set", "--data", standbyData, "--seqno", seqno, "--epoch", "1", "--record-crc", "0xdeadbeef"], in: directory)
            #expect(wrong.status == 0, "\(wrong.standardError)")
            var standby = try pair.startStandby()
            defer { standby.cleanUp() }
            let refused = try StandbyCommandTests.waitForStatus(of: standby) { $0.replication?.lastRejection != nil }
            #expect(refused.replication?.lastRejection?.contains("CRC 0xdeadbeef") == true, "\(String(describing: refused.replication))")
            #expect(standby.stop(with: SIGTERM) == 0)

            let found = try CLIProcess.run(["tranlog", "find", "--node", pair.primary.url, "--seqno", seqno], in: directory)
            let crc = try #require(found.standardOutput.split(separator: "\n").first { $0.hasPrefix("- CRC = ") }?.dropFirst("- CRC = ".count))
            let right = try CLIProcess.run(
                ["position", "set", "--data", standbyData, "--seqno", seqno, "--epoch", "1", "--record-crc", String(crc)], in: directory)
            #expect(right.status == 0, "\(right.standardError)")
            standby = try pair.startStandby()
            let target = try StandbyCommandTests.client(pair.primary.url) { try $0.status().repository.applied.seqno }
            _ = try StandbyCommandTests.waitForStatus(of: standby) { $0.repository.applied.seqno == target }
            try StandbyCommandTests.client(standby.url) { client throws in
                #expect(try client.get(key: Array("after".utf8))?.value == Array("stream".utf8))
                #expect(try client.get(key: Array("before".utf8))?.value == Array("copy".utf8))
            }
        }
    }
}
