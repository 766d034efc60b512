import Foundation
import Testing
import Tranlog

@Suite("Node verbs against a real `understudy start`")
struct NodeCommandTests {
    @Test("init, start, put/get/list/commit/status; kill -9 loses nothing acknowledged; SIGTERM stops cleanly")
    func lifecycle() throws {
        try withTemporaryDirectory { directory in
            let data = directory.appendingPathComponent("data")
            let created = try understudy(["init", "--data", data.path, "--source-id", "cli-test"], in: directory)
            #expect(field("logging mode", in: created.standardOutput) == "full")
            #expect(field("source id", in: created.standardOutput) == "cli-test")

            var node = try ServerProcess(data: data, in: directory)
            defer { node.cleanUp() }
            let expected = try writeThroughCLI(node: node.url, in: directory)
            #expect(try understudy(["get", "alpha", "--node", node.url], in: directory).standardOutput == "one")
            let listed = try understudy(["list", "--prefix", "b", "--node", node.url], in: directory).standardOutput
            #expect(listed == "beta\nbinary\n")
            let status = try statusJSON(node.url, in: directory)
            #expect(status["role"] as? String == "primary")
            #expect((status["repository"] as? [String: Any])?["objectCount"] as? Int == expected.count)

            #expect(node.stop(with: SIGKILL) == SIGKILL)
            node = try ServerProcess(data: data, in: directory)
            for (key, value) in expected {
                #expect(try understudy(["get", key, "--node", node.url], in: directory).standardOutput == value, "\(key)")
            }

            #expect(node.stop(with: SIGTERM) == 0)
            let records = try understudy(["tranlog", "list", data.appendingPathComponent("tranlogs").path, "--headers"], in: directory)
            let lastKind = records.standardOutput.split(separator: "\n").last?.split(separator: "\t")[5]
            #expect(lastKind == "shutdown")
        }
    }

    @Test("a node refused at start exits 78 (EX_CONFIG, no service-manager restart loop) and says why")
    func refusedStartExitStatus() throws {
        try withTemporaryDirectory { directory in
            let empty = directory.appendingPathComponent("nothing-here")
            let result = try CLIProcess.run(["start", "--data", empty.path, "--http", "127.0.0.1:0"], in: directory)
            #expect(result.status == 78)
            #expect(result.standardError.contains(empty.path))
        }
    }

    @Test("a client verb without a node says how to start one")
    func noNode() throws {
        try withTemporaryDirectory { directory in
            let result = try CLIProcess.run(["status", "--node", "http://127.0.0.1:1"], in: directory)
            #expect(result.status == 1)
            #expect(result.standardError.contains("cannot connect to 127.0.0.1:1"))
            #expect(result.standardError.contains("understudy start --data DIR"))
        }
    }

    @Test("a batch on standard input is read to its end; stdin that cannot be read is an error naming why, not a crash")
    func batchFromStandardInput() throws {
        try withTemporaryDirectory { directory in
            let binary = try #require(CLIProcess.binary).path
            let fromDirectory = try ChildProcess.run("/bin/sh", ["-c", "\"$0\" commit --file - --node http://127.0.0.1:1 < /", binary])
            let refusal = String(decoding: fromDirectory.errors, as: UTF8.self)
            #expect(fromDirectory.termination == .exited(1), "\(refusal)")
            #expect(refusal.contains("cannot read the batch from standard input: Is a directory"), "\(refusal)")

            // Read to its end, the batch goes on to the node (none listens here).
            let piped = try ChildProcess.run(
                "/bin/sh", ["-c", "echo '{\"operations\": []}' | \"$0\" commit --file - --node http://127.0.0.1:1", binary])
            let said = String(decoding: piped.errors, as: UTF8.self)
            #expect(piped.termination == .exited(1) && said.contains("cannot connect to 127.0.0.1:1"), "\(said)")
        }
    }

    /// Writes through every write verb; returns what each key must read back as.
    private func writeThroughCLI(node: String, in directory: URL) throws -> [String: String] {
        let valueFile = directory.appendingPathComponent("value.bin")
        try Data("from a file".utf8).write(to: valueFile)
        let batchFile = directory.appendingPathComponent("batch.json")
        try Data("""
            {"operations": [{"op": "put", "key": "gamma", "value": "three"}, {"op": "delete", "key": "doomed"}],
             "preconditions": [{"key": "gamma", "absent": true}]}
            """.utf8).write(to: batchFile)
        let committed = [
            ["put", "alpha", "one"], ["put", "beta", "two"], ["put", "binary", "--file", valueFile.path],
            ["put", "doomed", "soon gone"], ["commit", "--file", batchFile.path], ["delete", "nothing-there"],
        ]
        for arguments in committed {
            let output = try understudy(arguments + ["--node", node], in: directory).standardOutput
            #expect(output.hasPrefix("committed seqno "), "\(arguments): \(output)")
        }
        let conflict = try CLIProcess.run(["put", "alpha", "other", "--if-absent", "--node", node], in: directory)
        #expect(conflict.status == 1)
        #expect(conflict.standardError.contains("conflict on key 'alpha'"))
        return ["alpha": "one", "beta": "two", "binary": "from a file", "gamma": "three"]
    }

    private func statusJSON(_ node: String, in directory: URL) throws -> [String: Any] {
        let output = try understudy(["status", "--json", "--node", node], in: directory).standardOutput
        return try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
    }

    /// Runs a verb that must succeed.
    private func understudy(_ arguments: [String], in directory: URL) throws -> CLIProcess.Result {
        let result = try CLIProcess.run(arguments, in: directory)
        #expect(result.status == 0, "understudy \(arguments.joined(separator: " ")): \(result.standardError)")
        return result
    }
}
