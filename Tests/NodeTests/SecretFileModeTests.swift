import Foundation
import Node
import Repository
import SystemPackage
import Testing
import Transport
import UnderstudyTesting

/// Key and token files: owner-only (0600) starts; group-readable (0640) only with
/// `allowGroupReadableSecrets`; readable by others never; each refusal names the `chmod` that fixes it.
@Suite("Modes of key and token files, checked at start")
struct SecretFileModeTests {
    /// The error a node with a key file of `mode` fails to start with; nil if it started.
    private func startError(keyMode: Int, allowGroupReadable: Bool = false) throws -> (String?, path: String) {
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("understudy-key-\(UUID().uuidString)")
        try writeSecret("sixteen-or-more-bytes\n", to: keyFile, mode: keyMode)
        defer { try? FileManager.default.removeItem(at: keyFile) }
        do {
            try withNode(configure: {
                $0.replicationKeyFile = FilePath(keyFile.path)
                $0.replicationAddress = SocketAddress(host: "127.0.0.1", port: 0)
                $0.allowGroupReadableSecrets = allowGroupReadable
            }) { fixture in #expect(fixture.node.replicationAddress != nil) }
            return (nil, keyFile.path)
        } catch {
            return ("\(error)", keyFile.path)
        }
    }

    @Test("0600 starts; 0400 too")
    func ownerOnly() throws {
        #expect(try startError(keyMode: 0o600).0 == nil)
        #expect(try startError(keyMode: 0o400).0 == nil)
    }

    @Test("0640 is refused with the chmod to run, and starts with allowGroupReadableSecrets")
    func groupReadable() throws {
        let (error, path) = try startError(keyMode: 0o640)
        #expect(error?.contains("the replication key file \(path) has mode 0640") == true, "\(error ?? "started")")
        #expect(error?.contains("run `chmod 600 \(path)`") == true, "\(error ?? "started")")
        #expect(error?.contains("--allow-group-readable-secrets") == true, "\(error ?? "started")")
        #expect(try startError(keyMode: 0o640, allowGroupReadable: true).0 == nil)
    }

    @Test("0644 (readable by others) and 0660 (group-writable) are refused, with allowGroupReadableSecrets too")
    func othersReadable() throws {
        for allow in [false, true] {
            let (error, path) = try startError(keyMode: 0o644, allowGroupReadable: allow)
            #expect(error?.contains("has mode 0644") == true, "\(error ?? "started")")
            #expect(error?.contains("`chmod \(allow ? "640" : "600") \(path)`") == true, "\(error ?? "started")")
        }
        #expect(try startError(keyMode: 0o660, allowGroupReadable: true).0?.contains("has mode 0660") == true)
    }

    @Test("an admin token readable by others is refused at start; `init` writes it 0600")
    func adminToken() throws {
        let fixture = try NodeFixture()
        defer { fixture.tearDown() }
        let token = fixture.dataDirectory.adminTokenFile.string
        let created = try FileManager.default.attributesOfItem(atPath: token)[.posixPermissions] as? NSNumber
        #expect(created?.intValue == 0o600)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: token)
        #expect {
            try fixture.restart()
        } throws: { error in
            "\(error)".contains("the admin token file \(token) has mode 0644") && "\(error)".contains("`chmod 600 \(token)`")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: token)
    }
}
