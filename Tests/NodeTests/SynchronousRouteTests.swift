import Foundation
import Node
import Repository
import SystemPackage
import Testing
import Transport

@Suite("POST /admin/synchronous and the synchronous settings of a node")
struct SynchronousRouteTests {
    @Test("a node serving no standbys refuses it with 409; without the token it is 401")
    func refusedWithoutReplication() throws {
        try withNode { fixture in
            #expect(try fixture.send("POST", "/admin/synchronous", body: #"{"standbys": 1}"#).status == 401)
            let response = try fixture.admin("POST", "/admin/synchronous", body: #"{"standbys": 1}"#)
            #expect(response.status == 409)
            #expect(String(decoding: response.body, as: UTF8.self).contains("this node serves no standbys"))
            #expect(fixture.node.status.synchronous == nil)
        }
    }

    @Test("on a primary serving standbys it switches synchronous replication on and off at run time; bad requests are 400")
    func setAtRunTime() throws {
        try withServingNode { fixture in
            #expect(fixture.node.status.synchronous == nil)
            let on = try fixture.client.setSynchronous(SynchronousSetRequest(standbys: 1, level: .applied), token: try fixture.adminToken)
            #expect(on.synchronous?.state == .waiting && on.synchronous?.level == .applied && on.synchronous?.required == 1)
            #expect(fixture.node.status.synchronous?.state == .waiting)
            #expect(try fixture.admin("POST", "/admin/synchronous", body: #"{"standbys": -1}"#).status == 400)
            #expect(try fixture.admin("POST", "/admin/synchronous", body: #"{"standbys": 1, "level": "sometimes"}"#).status == 400)
            let off = try fixture.client.setSynchronous(SynchronousSetRequest(standbys: 0), token: try fixture.adminToken)
            #expect(off.synchronous == nil && off.released == 0)
            #expect(fixture.node.status.synchronous == nil)
        }
    }

    @Test("--synchronous-standbys shows in status and metrics from the start: waiting, no standby yet")
    func startsWaiting() throws {
        try withServingNode(configure: { $0.synchronous.standbys = 1 }) { fixture in
            let status = try #require(fixture.node.status.synchronous)
            #expect(status.state == .waiting && status.standbys.isEmpty && status.level == .flushed)
            let metrics = try fixture.client.metrics()
            #expect(metrics.contains(#"understudy_synchronous_state{state="waiting"} 1"#), "\(metrics)")
            #expect(metrics.contains("understudy_synchronous_fallbacks_total 0"), "\(metrics)")
        }
    }

    @Test("synchronous standbys need a key file, and a primary or a standby that serves standbys once promoted")
    func invalidSettings() {
        var configuration = NodeConfiguration(dataDirectory: DataDirectory(FilePath("/nonexistent")))
        configuration.synchronous.standbys = 1
        #expect(configuration.validate()?.contains("--replication-key-file") == true)
        configuration.replicationKeyFile = FilePath("/key")
        #expect(configuration.validate() == nil)
        configuration.standbyOf = SocketAddress(host: "127.0.0.1", port: 7481)
        #expect(configuration.validate()?.contains("give --replication too") == true)
        configuration.standbyServesWhenPromoted = true
        #expect(configuration.validate() == nil)
        configuration.standbyOf = nil
        configuration.standbyArchive = .directory(FilePath("/archive"))
        #expect(configuration.validate()?.contains("for a primary") == true)
    }
}
