import Foundation
import Node
import Repository
import SystemPackage
import Testing
import Transport
import UnderstudyTesting

@Suite("Replication settings of a node: key file, replication port, promote on a non-standby")
struct ReplicationConfigTests {
    @Test("without a key file replication is off: no port, no standbys; promote is refused: a primary is not a standby")
    func off() throws {
        try withNode { fixture in
            #expect(fixture.node.replicationAddress == nil)
            #expect(fixture.node.status.standbys == nil)
            let response = try fixture.admin("POST", "/admin/promote")
            #expect(response.status == 409)
            let body = String(decoding: response.body, as: UTF8.self)
            #expect(body.contains("this node is a primary, not a standby: there is nothing to promote (epoch 1, seqno 0)"), "\(body)")
        }
    }

    @Test("with a key file the node listens for standbys on the port asked (0: any) and reports none yet")
    func serving() throws {
        try withServingNode { fixture in
            let address = try #require(fixture.node.replicationAddress)
            #expect(address.port != 0)
            #expect(fixture.node.status.replicationAddress == "\(address)")
            #expect(fixture.node.status.standbys?.isEmpty == true)
            #expect(try fixture.send("POST", "/admin/promote").status == 401)
        }
    }

    @Test("a short key file is refused before anything opens")
    func shortKey() throws {
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("understudy-key-\(UUID().uuidString)")
        try writeSecret("short\n", to: keyFile)
        defer { try? FileManager.default.removeItem(at: keyFile) }
        #expect(throws: NodeError.self) {
            try withNode(configure: { $0.replicationKeyFile = FilePath(keyFile.path) }) { _ in }
        }
    }
}
