import Repository
import Testing
import Tranlog

@testable import Replication

/// Pins protocol version 2 byte for byte: a change here is an incompatible protocol change, which
/// needs a new `ReplicationProtocol.version` (and a primary that refuses the old one by name).
@Suite struct WireGoldenTests {
    private func hexString(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    @Test func ackHeartbeatAndRejectAreFrozen() {
        #expect(hexString(MessageCodec.encode(.ack(Ack(received: Seqno(3), flushed: Seqno(2), applied: Seqno(1))))) == "21000000080300000000000000020000000000000001000000000000002b1fac81")
        // Version 2's heartbeat: version 1's fields, then the digest's seqno and its two lanes.
        let digest = PositionedDigest(seqno: Seqno(257), value: ContentDigest(high: 0x0102_0304_0506_0708, low: 0x1112_1314_1516_1718))
        #expect(hexString(MessageCodec.encode(.heartbeat(Heartbeat(lastSeqno: Seqno(258), primaryTime: Timestamp(rawValue: 1_000_000), digest: digest)))) == "3100000007020100000000000040420f00000000000101000000000000080706050403020118171615141312116ced15c6")
        #expect(hexString(MessageCodec.encode(.reject(.logsRemoved(needed: Seqno(1), oldestAvailable: Seqno(40))))) == "1a0000000407010000000000000028000000000000001e570c39")
    }

    @Test func signedHelloIsFrozen() {
        let hello = Hello(
            repositoryID: testRepository, sourceID: standbySource, position: LogPosition(epoch: .first, seqno: Seqno(12)),
            recordCRC: 0x1234_5678, mirrorEnd: EventID(fileID: FileID(2), offset: 4096), history: firstEpochHistory)
        let signed = HelloProof.sign(hello, challenge: Array(0..<32), key: sharedKey)
        let expected = "9c0000000255535245504c02006f1c3e2a9b1d4c558e0f2a7b9c4d1e01097374616e6462792d3101000000000000000c000000000000"
            + "007856341201020000000000000000100000000000000100010000000000000001000000000000000000000000000000000c48acd4"
            + "600600097072696d6172792d31dd666acf76ddc88b37109456433f101aef760b2c76d96002e1e0081debc491d5736380eb"
        #expect(hexString(MessageCodec.encode(.hello(signed))) == expected)
    }
}
