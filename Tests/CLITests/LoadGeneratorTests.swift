import Foundation
import Testing

/// `understudy-load` (built beside `understudy`), the benchmarks' client, against a real node.
@Suite("understudy-load's open loop against a real node")
struct LoadGeneratorTests {
    /// The open loop releases requests on a Poisson schedule of --rate per second: 300 commits at
    /// 300/s take about a second (the sum of 300 exponential gaps of 1/300 s: below half a second
    /// is more than eight standard deviations away), however fast the node answers. A slower
    /// machine only lengthens the run, so the bound holds anywhere.
    @Test("--rate 300 --commits 300 makes 300 commits over at least half a second")
    func openLoopFollowsItsSchedule() throws {
        try withTemporaryDirectory { directory in
            let node = try HTTPLimitTests.startNode(in: directory)
            defer { node.cleanUp() }
            let binary = try #require(CLIProcess.binary).deletingLastPathComponent().appendingPathComponent("understudy-load")
            let load = try CLIProcess.run(
                binary, ["--node", node.url, "--clients", "4", "--commits", "300", "--rate", "300", "--json"], in: directory)
            #expect(load.status == 0, "\(load.standardError)")
            let summary = try #require(
                try JSONSerialization.jsonObject(with: Data(load.standardOutput.utf8)) as? [String: Any], "\(load.standardOutput)")
            #expect(summary["commits"] as? Int == 300, "\(summary)")
            let seconds = try #require(summary["seconds"] as? Double, "\(summary)")
            #expect(seconds >= 0.5, "300 commits at 300/s were all made within \(seconds) s")
        }
    }
}
