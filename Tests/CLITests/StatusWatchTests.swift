import Foundation
import Node
import SystemPackage
import Testing
import Tranlog

@Suite("understudy status --watch with real processes")
struct StatusWatchTests {
    @Test("not on a terminal, a standby's watch prints one line per refresh with its lag and apply rate")
    func standbyLines() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["a": "1", "b": "2"])
            defer { pair.cleanUp() }
            let standby = try pair.startStandby()
            defer { standby.cleanUp() }
            let target = try StandbyCommandTests.client(pair.primary.url) { try $0.status().repository.applied.seqno }
            _ = try StandbyCommandTests.waitForStatus(of: standby) { $0.repository.applied.seqno == target }

            let watch = try CLIProcess.run(["status", "--watch", "--interval", "0.2", "--count", "3", "--node", standby.url], in: directory)
            #expect(watch.status == 0, "\(watch.standardError)")
            let lines = watch.standardOutput.split(separator: "\n")
            #expect(lines.count == 3, "\(watch.standardOutput)")
            for line in lines {
                #expect(line.contains("| standby seqno \(target) |"), "\(line)")
                #expect(line.contains("applied \(target) behind 0 records"), "\(line)")
                #expect(line.contains("records/s") && line.contains("catch-up"), "\(line)")
                #expect(!line.contains("\u{1B}"), "escape codes in a non-terminal watch: \(line)")
            }
        }
    }

    @Test("a node that does not answer is shown unreachable since its first miss, the watch goes on, and it exits 1 like status")
    func unreachable() throws {
        try withTemporaryDirectory { directory in
            // A port nothing listens on: bound and closed at once.
            let watch = try CLIProcess.run(
                ["status", "--watch", "--interval", "0.1", "--count", "2", "--json", "--node", "http://127.0.0.1:1"], in: directory)
            #expect(watch.status == 1, "\(watch.standardError)")
            #expect(watch.standardError.contains("http://127.0.0.1:1 has not answered since"), "\(watch.standardError)")
            let lines = watch.standardOutput.split(separator: "\n").map { Data($0.utf8) }
            #expect(lines.count == 2, "\(watch.standardOutput)")
            let decoded = try lines.map { try JSONSerialization.jsonObject(with: $0) as? [String: Any] ?? [:] }
            let since = decoded.map { $0["unreachableSince"] as? String }
            #expect(since[0] != nil && since[0] == since[1], "\(watch.standardOutput)")
            #expect(decoded.allSatisfy { $0["status"] == nil && $0["error"] != nil })
        }
    }

    @Test("a watch whose reader goes away (`| head`) ends quietly with the status SIGPIPE gives, not a crash")
    func readerGoesAway() throws {
        try withTemporaryDirectory { directory in
            let errors = directory.appendingPathComponent("stderr")
            let watch = try ChildProcess(
                try #require(CLIProcess.binary).path,
                ["status", "--watch", "--interval", "0.05", "--json", "--node", "http://127.0.0.1:1"],
                standardOutput: .pipe, standardError: .file(FilePath(errors.path)))
            defer { watch.send(SIGKILL) }
            let reader = try #require(watch.standardOutput)
            var first = [UInt8](repeating: 0, count: 4096)
            let count = try first.withUnsafeMutableBytes { try reader.read(into: $0) }
            #expect(String(decoding: first.prefix(count), as: UTF8.self).contains("unreachableSince"))
            try reader.close()
            let ended = watch.waitForExit(seconds: CLIProcess.deadline)
            let said = try String(contentsOf: errors, encoding: .utf8)
            #expect(ended == .exited(128 + SIGPIPE), "\(said)")
            #expect(!said.contains("Fatal error") && !said.contains("crashed"), "\(said)")
        }
    }
}
