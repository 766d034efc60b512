import Foundation
import Node
import Repository
import Testing
import Tranlog
import TransportUV

@Suite("Errors: JSON bodies naming the key, field or limit")
struct ErrorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var method: String
        var path: String
        var headers: HTTPHeaders = HTTPHeaders()
        var status: Int
        var mentions: String
        var testDescription: String { "\(method) \(path) → \(status)" }
    }

    static let cases: [Case] = [
        Case(method: "PUT", path: "/objects/", status: 400, mentions: "empty key"),
        Case(method: "PUT", path: "/objects/" + String(repeating: "k", count: 1025), status: 400, mentions: "limit of 1024 bytes"),
        Case(method: "GET", path: "/objects/%zz", status: 400, mentions: "percent-encoding"),
        Case(method: "PUT", path: "/objects/k", headers: ["If-Match": "banana"], status: 400, mentions: "If-Match"),
        Case(method: "GET", path: "/objects?limit=5000", status: 400, mentions: "1 to 1000"),
        Case(method: "GET", path: "/objects?prefx=a", status: 400, mentions: "unknown parameter 'prefx'"),
        Case(method: "GET", path: "/nowhere", status: 404, mentions: "/nowhere"),
        Case(method: "DELETE", path: "/status", status: 405, mentions: "accepts GET"),
        Case(method: "POST", path: "/admin/checkpoint", status: 401, mentions: "Bearer"),
        Case(method: "POST", path: "/admin/checkpoint", headers: ["Authorization": "Basic Zm9vOmJhcg=="], status: 401, mentions: "Bearer"),
        Case(method: "POST", path: "/admin/checkpoint", headers: ["Authorization": "Bearer " + String(repeating: "0", count: 64)],
             status: 403, mentions: "admin.token"),
    ]

    @Test(arguments: cases)
    func refused(_ test: Case) throws {
        try withNode { fixture in
            let response = try fixture.send(test.method, test.path, headers: test.headers)
            #expect(response.status == test.status)
            #expect(response.headers["Content-Type"] == "application/json")
            let body = try JSONDecoder().decode([String: String].self, from: Data(response.body))
            #expect(body["error"] != nil)
            #expect(body["detail"]?.contains(test.mentions) == true, "\(response.text)")
        }
    }

    @Test("405 lists the allowed methods in Allow")
    func allowHeader() throws {
        try withNode { fixture in
            let objectAllows = try fixture.send("POST", "/objects/k").headers["Allow"]
            let metricsAllows = try fixture.send("PUT", "/metrics").headers["Allow"]
            #expect(objectAllows == "DELETE, GET, PUT")
            #expect(metricsAllows == "GET")
        }
    }

    @Test("a body over the server's limit is 413 and the node goes on serving")
    func oversizedBody() throws {
        try withNode(configure: { $0.http.maxBodyBytes = 64 << 10 }) { fixture in
            let response = try fixture.client.send(method: "PUT", path: "/objects/big", body: [UInt8](repeating: 7, count: 100 << 10))
            #expect(response.status == 413)
            #expect(response.text.contains("\(64 << 10) bytes"))
            _ = try fixture.client.put(key: .init("small"), value: [1])
            #expect(try fixture.client.get(key: .init("big")) == nil)
        }
    }

    @Test("the admin token from DATA/admin.token takes a checkpoint")
    func adminCheckpoint() throws {
        try withNode { fixture in
            let token = try AdminToken.read(fixture.dataDirectory)
            let written = try fixture.client.put(key: .init("k"), value: [1])
            let reply = try fixture.client.checkpoint(token: token)
            #expect(reply.taken)
            #expect(reply.position.seqno >= written.seqno)
            let again = try fixture.client.checkpoint(token: token)
            #expect(!again.taken)
            #expect(again.manifestGeneration == reply.manifestGeneration)
        }
    }

    @Test("an unreachable node is a clear error naming the address and the way out")
    func cannotConnect() throws {
        // A port just released by a node that stopped: nothing listens there any more.
        let address = try withNode { $0.node.httpAddress }
        let client = try NodeClient(address: address, timeout: .seconds(5), logger: quietLogger)
        defer { client.close() }
        let error = try #require(throws: NodeClientError.self) { try client.status() }
        #expect(error.description.contains("cannot connect to \(address)"))
        #expect(error.description.contains("understudy start --data DIR"))
    }
}
