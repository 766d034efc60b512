import Foundation
import Node
import Testing

/// `understudy tranlog find` on a generated log (`--data`) and on a running node (`--node`).
@Suite struct TranlogFindTests {
    @Test func findsByEachKeyInADirectory() throws {
        try withTemporaryDirectory { root in
            let log = try GeneratedLog(in: root)
            let row = try log.headerRows()[149]
            let bySeqno = try log.run("tranlog", "find", "--seqno", "150", "--data", root.path)
            #expect(bySeqno.status == 0, "\(bySeqno.standardError)")
            #expect(bySeqno.standardOutput.hasPrefix("SEQ# = 150 / FRAG# = 0 (last frag)\n"))
            #expect(bySeqno.standardOutput.contains("- EVENTID = \(row[3])\n"))
            #expect(bySeqno.standardOutput.range(of: #"- CRC = 0x[0-9a-f]{8}\n"#, options: .regularExpression) != nil)

            let byEvent = try log.run("tranlog", "find", "--event", row[3], "--data", log.directory.path, "--json")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(byEvent.standardOutput.utf8)) as? [String: Any])
            #expect(json["seqno"] as? Int == 150)
            #expect(json["sourceID"] as? String == "db1")
            #expect((json["recordCRC"] as? String)?.hasPrefix("0x") == true)

            let byTime = try log.run("tranlog", "find", "--time", row[2], "--data", root.path)
            #expect(byTime.status == 0, "\(byTime.standardError)")
            #expect(byTime.standardOutput.contains("- TIME = \(row[2])\n"))
            let seqno = try #require(Int(byTime.standardOutput.split(separator: " ")[2]))
            #expect(seqno <= 150, "the first record at or after the time of seqno 150")
        }
    }

    @Test func notFoundAndBadInputGiveSpecificErrors() throws {
        try withTemporaryDirectory { root in
            let log = try GeneratedLog(in: root)
            let notFound = try log.run("tranlog", "find", "--seqno", "100000", "--data", root.path)
            #expect(notFound.status == 1)
            #expect(notFound.standardError.contains(
                "seqno 100000 is not in the tranlogs in \(log.directory.path): they hold 1…\(log.records) (tranlog1.dbf…\(log.files.last!))"))
            let cases: [([String], String)] = [
                (["--event", "tranlog1.dbf"], "'tranlog1.dbf' is not an event id"),
                (["--seqno", "0"], "seqno 0 names no record"),
                (["--time", "yesterday"], "'yesterday' is not an ISO 8601 time"),
                (["--seqno", "1", "--time", "2026-01-01T00:00:00Z"], "give exactly one of --seqno, --event or --time"),
            ]
            for (arguments, message) in cases {
                let result = try CLIProcess.run(["tranlog", "find"] + arguments + ["--data", root.path], in: root)
                #expect(result.status != 0, "\(arguments)")
                #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
            }
        }
    }

    @Test func aMissingFileOnTheWayIsReportedAsMissing() throws {
        try withTemporaryDirectory { root in
            let log = try GeneratedLog(in: root)
            let middle = "tranlog\(log.middleFileID).dbf"
            try FileManager.default.removeItem(atPath: log.path(middle))
            let result = try log.run("tranlog", "find", "--seqno", "\(log.records)", "--data", root.path)
            #expect(result.status == 1)
            #expect(result.standardError.contains("\(middle) is missing from"), "\(result.standardError)")
            #expect(!result.standardError.contains("is not in the tranlogs"))
        }
    }

    @Test func findsOnARunningNode() throws {
        try withTemporaryDirectory { directory in
            let data = directory.appendingPathComponent("data")
            try #require(try CLIProcess.run(["init", "--data", data.path], in: directory).status == 0)
            let node = try ServerProcess(data: data, in: directory)
            defer { node.cleanUp() }
            for key in ["a", "b", "c"] {
                try #require(try CLIProcess.run(["put", key, "value", "--node", node.url], in: directory).status == 0)
            }
            let bySeqno = try CLIProcess.run(["tranlog", "find", "--seqno", "2", "--node", node.url, "--json"], in: directory)
            let second = try #require(try JSONSerialization.jsonObject(with: Data(bySeqno.standardOutput.utf8)) as? [String: Any])
            #expect(second["seqno"] as? Int == 2)
            let eventID = try #require(second["eventID"] as? String)
            let time = try #require(second["time"] as? String)

            let byEvent = try CLIProcess.run(["tranlog", "find", "--event", eventID, "--node", node.url], in: directory)
            #expect(byEvent.standardOutput.hasPrefix("SEQ# = 2 / FRAG# = 0 (last frag)\n"), "\(byEvent.standardError)")
            let byTime = try CLIProcess.run(["tranlog", "find", "--time", time, "--node", node.url], in: directory)
            #expect(byTime.standardOutput.contains("- TIME = \(time)\n"), "\(byTime.standardError)")

            let missing = try CLIProcess.run(["tranlog", "find", "--seqno", "99", "--node", node.url], in: directory)
            #expect(missing.status == 1)
            #expect(missing.standardError.contains("seqno 99 is not in the tranlogs"), "\(missing.standardError)")
            #expect(missing.standardError.contains("they hold 1…3 (tranlog1.dbf)"))
            #expect(missing.standardError.contains("HTTP 404"))

            let client = try NodeClient(url: node.url)
            defer { client.close() }
            for query in ["seqno=0", "event=tranlog1.dbf", "time=soon", "seqno=1&time=2026-01-01T00:00:00Z", "offset=3"] {
                let response = try client.send(method: "GET", path: "/tranlog/find?" + query)
                #expect(response.status == 400, "\(query): \(response.text)")
            }
        }
    }
}
