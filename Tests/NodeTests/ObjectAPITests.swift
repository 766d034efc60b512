import Foundation
import Node
import Repository
import Testing
import Tranlog
import TransportUV

@Suite("Objects API")
struct ObjectAPITests {
    @Test("put, get and delete round-trip, the seqno travelling in ETag and X-Understudy-Seqno")
    func roundTrip() throws {
        try withNode { fixture in
            let client = fixture.client
            let written = try client.put(key: .init("greeting"), value: .init("hello"))
            let read = try #require(try client.get(key: .init("greeting")))
            #expect(read == FetchedObject(value: .init("hello"), seqno: written.seqno))

            let raw = try fixture.send("GET", "/objects/greeting")
            #expect(raw.headers["ETag"] == "\"\(written.seqno)\"")
            #expect(raw.headers["X-Understudy-Seqno"] == "\(written.seqno)")

            let deleted = try client.delete(key: .init("greeting"))
            #expect(deleted.seqno > written.seqno)
            #expect(try client.get(key: .init("greeting")) == nil)
            let missing = try fixture.send("GET", "/objects/greeting")
            #expect(missing.status == 404)
            #expect(missing.text.contains("'greeting'"))
        }
    }

    @Test("keys are percent-decoded: slashes, spaces and non-UTF-8 bytes round-trip")
    func binaryKeys() throws {
        try withNode { fixture in
            let keys: [[UInt8]] = [.init("a/b c"), [0xFF, 0x00, 0x2F], .init("snow☃")]
            for (index, key) in keys.enumerated() {
                _ = try fixture.client.put(key: key, value: [UInt8(index)])
                #expect(try fixture.client.get(key: key)?.value == [UInt8(index)])
            }
            let listed = try fixture.client.list().keys.map(\.bytes)
            #expect(Set(listed) == Set(keys))
            let json = try fixture.send("GET", "/objects").text
            #expect(json.contains("{\"hex\":\"ff002f\"}"), "non-UTF-8 keys are listed as hex: \(json)")
            #expect(json.contains("\"a/b c\""))
        }
    }

    @Test("If-None-Match: * and If-Match: SEQNO become preconditions; a failed one is 409 and writes nothing")
    func conditionalWrites() throws {
        try withNode { fixture in
            let client = fixture.client
            let first = try client.put(key: .init("k"), value: .init("1"), expecting: .absent)
            #expect(throws: NodeClientError.self) { try client.put(key: .init("k"), value: .init("2"), expecting: .absent) }
            let second = try client.put(key: .init("k"), value: .init("2"), expecting: .writtenAt(first.seqno))
            let stale = try fixture.send("PUT", "/objects/k", headers: ["If-Match": "\"\(first.seqno)\""], body: "3")
            #expect(stale.status == 409)
            #expect(stale.text.contains("'k'"))
            _ = try client.delete(key: .init("k"), expecting: .writtenAt(second.seqno))
            #expect(try client.get(key: .init("k")) == nil)
        }
    }

    @Test("listing: prefix, after and limit page through keys in byte order")
    func listing() throws {
        try withNode { fixture in
            let client = fixture.client
            for key in ["a3", "b1", "a1", "a2", "c"] { _ = try client.put(key: .init(key), value: []) }
            let firstPage = try client.list(prefix: .init("a"), limit: 2)
            #expect(firstPage.keys.map(\.bytes) == [.init("a1"), .init("a2")])
            #expect(firstPage.next?.bytes == .init("a2"))
            let secondPage = try client.list(prefix: .init("a"), after: firstPage.next?.bytes, limit: 2)
            #expect(secondPage.keys.map(\.bytes) == [.init("a3")])
            #expect(secondPage.next == nil)
            #expect(try client.list().keys.map(\.bytes) == ["a1", "a2", "a3", "b1", "c"].map { .init($0) })
            #expect(try client.list(after: .init("b1")).keys.map(\.bytes) == [.init("c")])
        }
    }
}
