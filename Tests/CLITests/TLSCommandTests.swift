import Foundation
import Node
import Testing
import TransportUV
import UnderstudyTesting

@Suite("TLS on both ports with real processes: streaming, base copy, client certificates, plain text refused, SIGHUP reload")
struct TLSCommandTests {
    /// A CA with certificates for a primary (serial 0x10), a standby (0x20) and a client (0x30); another CA's
    /// certificate (0x40); a replication key; a primary started with TLS, asking clients for certificates.
    struct Cluster {
        let directory: URL
        let certificates: TestCertificates
        let ca: TestCertificates.Identity
        let primaryIdentity: TestCertificates.Identity
        let standbyIdentity: TestCertificates.Identity
        let client: TestCertificates.Identity
        let stranger: TestCertificates.Identity
        let data: URL
        let primary: ServerProcess

        init(in directory: URL) throws {
            self.directory = directory
            certificates = TestCertificates(in: directory)
            ca = try certificates.makeCA("ca")
            primaryIdentity = try certificates.makeCertificate("primary", signedBy: ca, serial: 0x10)
            standbyIdentity = try certificates.makeCertificate("standby", signedBy: ca, serial: 0x20)
            client = try certificates.makeCertificate("client", signedBy: ca, serial: 0x30)
            stranger = try certificates.makeCertificate("stranger", signedBy: try certificates.makeCA("other"), serial: 0x40)
            try writeSecret("primary-and-standby-share-this-key\n", to: directory.appendingPathComponent("key"))
            data = directory.appendingPathComponent("primary")
            let initialized = try CLIProcess.run(["init", "--data", data.path, "--source-id", "primary"], in: directory)
            try #require(initialized.status == 0, "\(initialized.standardError)")
            primary = try ServerProcess([
                "start", "--data", data.path, "--http", "127.0.0.1:0", "--replication", "127.0.0.1:0",
                "--replication-key-file", directory.appendingPathComponent("key").path,
            ] + Self.tlsArguments(primaryIdentity, ca: ca), in: directory)
        }

        static func tlsArguments(_ identity: TestCertificates.Identity, ca: TestCertificates.Identity) -> [String] {
            ["--tls-cert", identity.certificate, "--tls-key", identity.key, "--tls-ca", ca.certificate]
        }

        func url(_ node: ServerProcess) -> String { "https://\(node.fields["http"] ?? "?")" }
        func port(_ node: ServerProcess, _ field: String) -> Int { Int(node.fields[field]?.split(separator: ":").last ?? "") ?? 0 }

        /// The command-line flags of a client holding `identity` (none: no certificate).
        func clientArguments(_ identity: TestCertificates.Identity?) -> [String] {
            ["--tls-ca", ca.certificate] + (identity.map { ["--tls-cert", $0.certificate, "--tls-key", $0.key] } ?? [])
        }

        func withClient<Value>(_ node: ServerProcess, _ body: (NodeClient) throws -> Value) throws -> Value {
            let tls = TLSConfiguration(certificateFile: client.certificate, keyFile: client.key, caFile: ca.certificate)
            let client = try NodeClient(url: url(node), timeout: .seconds(10), tls: tls)
            defer { client.close() }
            return try body(client)
        }

        func put(_ keys: Range<Int>, on node: ServerProcess) throws {
            try withClient(node) { client in
                for index in keys { _ = try client.put(key: Array("key-\(index)".utf8), value: Array("value \(index)".utf8)) }
            }
        }

        func waitUntilApplied(_ standby: ServerProcess) throws {
            let target = try withClient(primary) { try $0.status().repository.applied.seqno }
            #expect(eventually(within: 60) { (try? withClient(standby) { try $0.status().repository.applied.seqno }).map { $0 >= target } ?? false },
                    "the standby never reached seqno \(target); its log:\n\(standby.log)")
        }
    }

    @Test("an empty standby copies its base and streams over TLS, presenting its own certificate")
    func baseCopyAndStreaming() throws {
        try withTemporaryDirectory { directory in
            let cluster = try Cluster(in: directory)
            defer { cluster.primary.cleanUp() }
            try cluster.put(0..<200, on: cluster.primary)
            #expect(try TestCertificates.servedCertificate(port: cluster.port(cluster.primary, "replication"), identity: cluster.client,
                                                          ca: cluster.ca).contains("serial=10"), "the replication port serves TLS")

            let standby = try ServerProcess([
                "standby", "--data", directory.appendingPathComponent("standby").path, "--primary", cluster.primary.fields["replication"]!,
                "--replication-key-file", directory.appendingPathComponent("key").path, "--http", "127.0.0.1:0",
            ] + Cluster.tlsArguments(cluster.standbyIdentity, ca: cluster.ca), in: directory)
            defer { standby.cleanUp() }
            #expect(standby.log.contains("base copy installed"), "\(standby.log)")
            try cluster.waitUntilApplied(standby)
            try cluster.put(200..<240, on: cluster.primary)
            try cluster.waitUntilApplied(standby)
            let indexes = [0, 199, 200, 239]
            let values = try cluster.withClient(standby) { client in try indexes.map { try client.get(key: Array("key-\($0)".utf8))?.value } }
            #expect(values == indexes.map { Array("value \($0)".utf8) })
            #expect(!cluster.primary.log.contains("TLS handshake with"), "no handshake failed:\n\(cluster.primary.log)")
            #expect(standby.stop(with: SIGTERM) == 0)
        }
    }

    @Test("HTTP over TLS: a client certificate signed by the CA is served; none, another CA's, or plain text is refused and logged")
    func clientCertificates() throws {
        try withTemporaryDirectory { directory in
            let cluster = try Cluster(in: directory)
            defer { cluster.primary.cleanUp() }
            let url = cluster.url(cluster.primary)
            func status(_ arguments: [String]) throws -> CLIProcess.Result {
                try CLIProcess.run(["status", "--json"] + arguments, in: directory)
            }

            let served = try status(["--node", url] + cluster.clientArguments(cluster.client))
            #expect(served.status == 0, "\(served.standardError)")
            #expect(served.standardOutput.contains("\"role\""))

            let anonymous = try status(["--node", url] + cluster.clientArguments(nil))
            #expect(anonymous.status != 0)
            #expect(anonymous.standardError.contains("certificate required"), "\(anonymous.standardError)")
            #expect(eventually { cluster.primary.log.contains("peer did not return a certificate") }, "\(cluster.primary.log)")

            let foreign = try status(["--node", url] + cluster.clientArguments(cluster.stranger))
            #expect(foreign.status != 0)
            #expect(foreign.standardError.contains("TLS") || foreign.standardError.contains("tls"), "\(foreign.standardError)")
            #expect(eventually { cluster.primary.log.contains("certificate verify failed") }, "\(cluster.primary.log)")

            let plain = try status(["--node", "http://\(cluster.primary.fields["http"]!)"])
            #expect(plain.status != 0)
            #expect(eventually { cluster.primary.log.contains("the peer does not speak TLS") }, "\(cluster.primary.log)")

            let noCA = try status(["--node", url])
            #expect(noCA.status != 0)
            #expect(noCA.standardError.contains("https:// needs --tls-ca"), "\(noCA.standardError)")
        }
    }

    @Test("SIGHUP serves a new certificate to new connections; a bad one is refused and the old one kept")
    func reloadOnHangup() throws {
        try withTemporaryDirectory { directory in
            let cluster = try Cluster(in: directory)
            defer { cluster.primary.cleanUp() }
            let port = cluster.port(cluster.primary, "http")
            func served() throws -> String { try TestCertificates.servedCertificate(port: port, identity: cluster.client, ca: cluster.ca) }
            #expect(try served().contains("serial=10"))

            try cluster.certificates.makeCertificate("primary", signedBy: cluster.ca, serial: 0x11)
            cluster.primary.process.send(SIGHUP)
            #expect(eventually { cluster.primary.log.contains("TLS certificates reloaded") }, "\(cluster.primary.log)")
            #expect(try served().contains("serial=11"))

            try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: cluster.primaryIdentity.certificate))
            cluster.primary.process.send(SIGHUP)
            #expect(eventually { cluster.primary.log.contains("TLS certificates not reloaded") }, "\(cluster.primary.log)")
            #expect(cluster.primary.log.contains(cluster.primaryIdentity.certificate), "the error names the file")
            #expect(try served().contains("serial=11"), "the node keeps serving with the certificate it had")
            #expect(try cluster.withClient(cluster.primary) { try $0.status().role } == "primary")
            #expect(cluster.primary.stop(with: SIGTERM) == 0)
        }
    }

    @Test("a TLS key file readable by others is refused at start, naming the chmod")
    func keyFileMode() throws {
        try withTemporaryDirectory { directory in
            let certificates = TestCertificates(in: directory)
            let ca = try certificates.makeCA("ca")
            let node = try certificates.makeCertificate("node", signedBy: ca, serial: 1)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: node.key)
            let data = directory.appendingPathComponent("data")
            _ = try CLIProcess.run(["init", "--data", data.path], in: directory)
            let refused = try ServerProcess(["start", "--data", data.path, "--http", "127.0.0.1:0", "--tls-cert", node.certificate, "--tls-key", node.key],
                                            in: directory, mayBeRefused: true)
            defer { refused.cleanUp() }
            #expect(refused.refused)
            #expect(refused.log.contains("TLS key file \(node.key) has mode 0644"), "\(refused.log)")
            #expect(refused.log.contains("chmod 600 \(node.key)"))
        }
    }
}
