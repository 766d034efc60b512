import Foundation
import Node
import Repository
import Testing
import Tranlog

/// The fence routes and the `Understudy-Epoch` header on a node: what is refused, what changes nothing.
@Suite struct FenceAPITests {
    @Test("POST /admin/fence without a body fences at the node's epoch + 1, once; writes get 503 fenced; unfence lifts it")
    func fenceAndUnfenceThroughTheAPI() throws {
        try withNode { fixture in
            let written = try fixture.client.put(key: .init("before"), value: [1])
            let notNewer = try fixture.admin("POST", "/admin/fence", body: #"{"epoch": 1}"#)
            #expect(notNewer.status == 409)
            #expect(notNewer.text.contains("epoch 1 is not newer than this node's own epoch 1"), "\(notNewer.text)")
            let notFenced = try fixture.admin("POST", "/admin/unfence")
            #expect(notFenced.status == 200 && notFenced.text == #"{}"#, "\(notFenced.text)")

            let token = try fixture.adminToken
            let fenced = try fixture.client.fence(FenceRequest(), token: token)
            #expect(fenced.changed)
            #expect(fenced.fence.epoch == Epoch(2) && fenced.fence.seqno == nil && fenced.fence.node == nil)
            #expect(fenced.fence.acknowledgedThrough == written.seqno)
            #expect(try !fixture.client.fence(FenceRequest(epoch: Epoch(2), seqno: Seqno(9)), token: token).changed)
            let refused = try fixture.send("PUT", "/objects/after", body: "x")
            #expect(refused.status == 503)
            #expect(refused.text.contains(#""error":"fenced""#), "\(refused.text)")
            #expect(refused.text.contains("fenced: epoch 2 began at an unknown seqno on an unknown node"), "\(refused.text)")
            let status = try fixture.client.status()
            #expect(status.role == "fenced" && status.fenced?.epoch == Epoch(2))

            #expect(try fixture.client.unfence(token: token).lifted?.epoch == Epoch(2))
            #expect(try fixture.client.put(key: .init("after"), value: [1]).seqno > written.seqno)
            #expect(try fixture.client.status().fenced == nil)
        }
    }

    @Test("a malformed Understudy-Epoch is 400 and fences nothing")
    func malformedClientEpochIsRefused() throws {
        try withNode { fixture in
            let refused = try fixture.send("PUT", "/objects/k", headers: ["Understudy-Epoch": "two"], body: "x")
            #expect(refused.status == 400)
            #expect(refused.text.contains("Understudy-Epoch"), "\(refused.text)")
            #expect(try fixture.client.status().role == "primary")
        }
    }
}
