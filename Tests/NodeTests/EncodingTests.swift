import Foundation
import Repository
import Testing
import Tranlog
@testable import Node

@Suite("Wire encodings")
struct EncodingTests {
    @Test("keys are JSON strings when UTF-8, else {\"hex\": ...}, both ways")
    func wireKeys() throws {
        let keys: [[UInt8]] = [Array("plain".utf8), [0xFF, 0x00], Array("é".utf8), []]
        let json = String(decoding: JSONBody.encode(keys.map(WireKey.init)), as: UTF8.self)
        #expect(json == "[\"plain\",{\"hex\":\"ff00\"},\"é\",\"\"]")
        let decoded = try JSONDecoder().decode([WireKey].self, from: Data(json.utf8))
        #expect(decoded.map(\.bytes) == keys)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(WireKey.self, from: Data("{\"hex\":\"f\"}".utf8)) }
    }

    @Test("a commit reply written directly is what JSONEncoder makes of it, and decodes back")
    func commitReply() throws {
        for (seqno, epoch, offset) in [(UInt64(1), UInt64(1), UInt64(128)), (UInt64.max, 7, UInt64(1) << 40)] {
            let reply = CommitReply(CommitOutcome(seqno: Seqno(seqno), epoch: Epoch(epoch), eventID: EventID(fileID: FileID(12), offset: offset)))
            #expect(reply.json == JSONBody.encode(reply))
            #expect(try JSONDecoder().decode(CommitReply.self, from: Data(reply.json)) == reply)
        }
    }

    @Test("percent-encoding round-trips every byte and rejects malformed escapes")
    func percentEncoding() {
        let every = (0...255).map { UInt8($0) }
        #expect(PercentEncoding.decode(Substring(PercentEncoding.encode(every))) == every)
        #expect(PercentEncoding.encode(Array("a/b c~".utf8)) == "a%2Fb%20c~")
        #expect(PercentEncoding.decode("a+b", plusIsSpace: true) == Array("a b".utf8))
        #expect(PercentEncoding.decode("a+b") == Array("a+b".utf8))
        for malformed in ["%", "%4", "%zz", "a%g1"] { #expect(PercentEncoding.decode(Substring(malformed)) == nil) }
    }

    @Test("the admin token comparison")
    func tokenComparison() {
        #expect(AdminRoutes.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!AdminRoutes.constantTimeEqual(Array("abd".utf8), Array("abc".utf8)))
        #expect(!AdminRoutes.constantTimeEqual(Array("ab".utf8), Array("abc".utf8)))
    }

    @Test("node URLs and listen addresses", arguments: [
        ("http://127.0.0.1:7480", "127.0.0.1:7480"), ("127.0.0.1:9000/", "127.0.0.1:9000"), ("http://localhost", "127.0.0.1:7480"),
        ("http://[::1]:81", "[::1]:81"), ("https://127.0.0.1:7443", "127.0.0.1:7443"),
    ])
    func urls(url: String, expected: String) throws {
        let (address, secure) = try NodeClient.address(fromURL: url)
        #expect("\(address)" == expected)
        #expect(secure == url.hasPrefix("https://"))
    }

    @Test("https:// without --tls-ca is refused, naming the flag")
    func httpsNeedsCA() {
        #expect { try NodeClient(url: "https://127.0.0.1:7443") } throws: { "\($0)".contains("--tls-ca") }
    }

    @Test("URLs that are refused", arguments: ["https://example.com:7480", "http://example.com:7480", "http://127.0.0.1:0", "127.0.0.1:http"])
    func badURLs(url: String) {
        #expect(throws: NodeClientError.self) { try NodeClient.address(fromURL: url) }
    }
}
