import Testing
import Tranlog

@testable import Replication

/// Pins base-copy version 1 byte for byte: a change here needs a new `BaseCopyProtocol.version`.
@Suite struct BaseCopyGoldenTests {
    private func hexString(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    @Test func signedRequestIsFrozen() {
        let request = BaseCopyProof.sign(BaseCopyRequest(sourceID: standbySource, nonce: Array(32..<64)), challenge: Array(0..<32), key: sharedKey)
        #expect(hexString(MessageCodec.encode(.baseCopyRequest(request))) == "5b000000095553424153450100097374616e6462792d31202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
            + "98b670a48b1a78b8a580629ee03cab20166a57acc6d593fb49fa9969430e6d45e5aa576f")
    }

    @Test func startDataEndAndRejectsAreFrozen() {
        let end = BaseCopyProof.sign(
            BaseCopyEnd(
                repositoryID: testRepository, position: LogPosition(epoch: .first, seqno: Seqno(77)), byteCount: 3, crc: 0x0102_0304,
                digest: Array(repeating: 0xab, count: 32)),
            nonce: Array(32..<64), key: sharedKey)
        #expect(hexString(MessageCodec.encode(.baseCopyStart(BaseCopyStart(repositoryID: testRepository, byteCount: 3, compressed: true)))) == "220000000a6f1c3e2a9b1d4c558e0f2a7b9c4d1e0103000000000000000131c41beb")
        #expect(hexString(MessageCodec.encode(.baseCopyData(BaseCopyChunk(offset: 5, bytes: [9, 8, 7])))) == "140000000b050000000000000009080724150487")
        #expect(hexString(MessageCodec.encode(.baseCopyEnd(end))) == "750000000c6f1c3e2a9b1d4c558e0f2a7b9c4d1e0101000000000000004d0000000000000003000000000000000403020"
            + "1ababababababababababababababababababababababababababababababababdd0faafa540cbb74dcb8e9cffc2097b68cf5"
            + "0d2f43b67c1031f6a4d1c2ae8898bbc96130")
        #expect(hexString(MessageCodec.encode(.reject(.backupInProgress(detail: "busy")))) == "10000000040904006275737932545013")
    }
}
