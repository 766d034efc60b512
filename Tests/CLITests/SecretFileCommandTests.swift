import Foundation
import Testing
import UnderstudyTesting

@Suite("start refuses key files readable by others, with the chmod to run; --allow-group-readable-secrets allows 0640")
struct SecretFileCommandTests {
    @Test("a 0644 key file: start exits, naming `chmod 600 KEY`; 0640 starts with --allow-group-readable-secrets")
    func keyFileModes() throws {
        try withTemporaryDirectory { directory in
            let data = directory.appendingPathComponent("data")
            let created = try CLIProcess.run(["init", "--data", data.path], in: directory)
            try #require(created.status == 0, "\(created.standardError)")
            let key = directory.appendingPathComponent("key")
            try writeSecret("primary-and-standby-share-this-key\n", to: key, mode: 0o644)
            let arguments = ["start", "--data", data.path, "--http", "127.0.0.1:0", "--replication", "127.0.0.1:0", "--replication-key-file", key.path]
            let refused = try ServerProcess(arguments, in: directory, mayBeRefused: true)
            defer { refused.cleanUp() }
            #expect(refused.refused)
            #expect(refused.exitStatus != 0)
            #expect(refused.log.contains("run `chmod 600 \(key.path)`"), "\(refused.log)")

            try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: key.path)
            let grouped = try ServerProcess(arguments + ["--allow-group-readable-secrets"], in: directory)
            defer { grouped.cleanUp() }
            #expect(grouped.fields["replication"] != nil)
        }
    }

    @Test("join checks its key file before it starts supervising: a 0644 key exits at once with the chmod to run, and no etcd is contacted")
    func joinRefusesAnOpenKeyFile() throws {
        try withTemporaryDirectory { directory in
            let key = directory.appendingPathComponent("key")
            try writeSecret("a-cluster-shares-this-replication-key\n", to: key, mode: 0o644)
            let result = try CLIProcess.run([
                "join", "--data", directory.appendingPathComponent("data").path, "--name", "a", "--cluster", "c",
                // Nothing listens there: the check comes first, so the member never gets as far as etcd.
                "--etcd", "http://127.0.0.1:9", "--http", "127.0.0.1:\(try Loopback.freePort())",
                "--replication", "127.0.0.1:\(try Loopback.freePort())", "--replication-key-file", key.path,
            ], in: directory)
            #expect(result.status == 78, "refused for good: systemd's RestartPreventExitStatus")
            #expect(result.standardError.contains("run `chmod 600 \(key.path)`"), "\(result.standardError)")
        }
    }
}
