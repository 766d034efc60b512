import Testing
import Tranlog

@testable import Replication

/// Pins base-copy version 2 byte for byte: a change here needs a new `BaseCopyProtocol.version`.
@Suite struct BaseCopyGoldenTests {
    private func hexString(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    static let pinID: [UInt8] = Array(100..<116)
    static let files = [BaseCopyFile(path: "understudy.json", size: 3), BaseCopyFile(path: "tranlogs/tranlog1.dbf", size: 0)]

    @Test func signedRequestsAreFrozen() {
        let fresh = BaseCopyProof.sign(BaseCopyRequest(sourceID: standbySource, nonce: Array(32..<64)), challenge: Array(0..<32), key: sharedKey)
        #expect(hexString(MessageCodec.encode(.baseCopyRequest(fresh))) == "5c000000095553424153450200097374616e6462792d31202122232425262728292a2b2c2d2e2f303132333435363738393a"
            + "3b3c3d3e3f0074fcc127a7b08d7f03007bab221fa9a16c4ee8453d3e94676421771f47147f626e7f9d85")
        let resuming = BaseCopyProof.sign(
            BaseCopyRequest(sourceID: standbySource, nonce: Array(32..<64), resume: BaseCopyResume(pinID: Self.pinID, held: [3, 0])),
            challenge: Array(0..<32), key: sharedKey)
        #expect(hexString(MessageCodec.encode(.baseCopyRequest(resuming))) == "80000000095553424153450200097374616e6462792d31202122232425262728292a2b2c2d2e2f303132333435363738393a"
            + "3b3c3d3e3f016465666768696a6b6c6d6e6f707172730200000003000000000000000000000000000000baa7e8fe1908efd2"
            + "23c769b866fa36d2918c2d8f49a541f98f16464144da22aade288820")
    }

    @Test func startDataEndAndRejectsAreFrozen() {
        let end = BaseCopyProof.sign(
            BaseCopyEnd(
                repositoryID: testRepository, position: LogPosition(epoch: .first, seqno: Seqno(77)), pinID: Self.pinID,
                digests: [Array(repeating: 0xab, count: 32), Array(repeating: 0xcd, count: 32)]),
            files: Self.files, nonce: Array(32..<64), key: sharedKey)
        #expect(hexString(MessageCodec.encode(.baseCopyStart(BaseCopyStart(repositoryID: testRepository, pinID: Self.pinID, files: Self.files)))) == "630000000a6f1c3e2a9b1d4c558e0f2a7b9c4d1e016465666768696a6b6c6d6e6f70717273020000000f756e646572737475"
            + "64792e6a736f6e0300000000000000157472616e6c6f67732f7472616e6c6f67312e6462660000000000000000b00b8df5")
        #expect(hexString(MessageCodec.encode(.baseCopyData(BaseCopyChunk(file: 1, offset: 5, bytes: [9, 8, 7])))) == "1c0000000b01000000050000000000000036fd2da6090807b0a134db")
        #expect(hexString(MessageCodec.encode(.baseCopyEnd(end))) == "9d0000000c6f1c3e2a9b1d4c558e0f2a7b9c4d1e0101000000000000004d000000000000006465666768696a6b6c6d6e6f70"
            + "71727302000000ababababababababababababababababababababababababababababababababcdcdcdcdcdcdcdcdcdcdcd"
            + "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdb9552396b4077b878314a950e90b433a875bbf0b5a8340adf6e2087127"
            + "d206a4e5618a32")
        #expect(hexString(MessageCodec.encode(.reject(.backupInProgress(detail: "busy")))) == "10000000040904006275737932545013")
    }
}
