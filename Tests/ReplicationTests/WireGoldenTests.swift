import Repository
import Testing
import Tranlog

@testable import Replication

/// Pins protocol version 3 byte for byte: a change here is an incompatible protocol change, which
/// needs a new `ReplicationProtocol.version` (and a primary that refuses the old one by name).
@Suite struct WireGoldenTests {
    private func hexString(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    @Test func ackHeartbeatAndRejectAreFrozen() {
        // Version 3's ack: the three positions, then the standing notice heard.
        #expect(hexString(MessageCodec.encode(.ack(Ack(received: Seqno(3), flushed: Seqno(2), applied: Seqno(1), notice: 5)))) == "250000000803000000000000000200000000000000010000000000000005000000c3e01435")
        // Version 2's heartbeat: version 1's fields, then the digest's seqno and its two lanes; version 3
        // adds the standing: notice, level (0: not required), since, fallback ms.
        let digest = PositionedDigest(seqno: Seqno(257), value: ContentDigest(high: 0x0102_0304_0506_0708, low: 0x1112_1314_1516_1718))
        #expect(hexString(MessageCodec.encode(.heartbeat(Heartbeat(lastSeqno: Seqno(258), primaryTime: Timestamp(rawValue: 1_000_000), digest: digest)))) == "4200000007020100000000000040420f000000000001010000000000000807060504030201181716151413121100000000000000000000000000000000009744919e")
        let required = SynchronousStanding(
            notice: 2, required: .init(level: .flushed, since: Timestamp(rawValue: 999_999), fallbackAfter: .milliseconds(1500)))
        #expect(hexString(MessageCodec.encode(.heartbeat(Heartbeat(lastSeqno: Seqno(258), primaryTime: Timestamp(rawValue: 1_000_000), digest: digest, standing: required)))) == "4200000007020100000000000040420f000000000001010000000000000807060504030201181716151413121102000000023f420f0000000000dc05000007f72a59")
        #expect(hexString(MessageCodec.encode(.reject(.logsRemoved(needed: Seqno(1), oldestAvailable: Seqno(40))))) == "1a0000000407010000000000000028000000000000001e570c39")
    }

    @Test func signedHelloIsFrozen() {
        let hello = Hello(
            repositoryID: testRepository, sourceID: standbySource, position: LogPosition(epoch: .first, seqno: Seqno(12)),
            recordCRC: 0x1234_5678, mirrorEnd: EventID(fileID: FileID(2), offset: 4096), history: firstEpochHistory,
            challenge: Array(64..<96))
        let signed = HelloProof.sign(hello, challenge: Array(0..<32), key: sharedKey)
        let expected = "bc0000000255535245504c03006f1c3e2a9b1d4c558e0f2a7b9c4d1e01097374616e6462792d3101000000000000000c000000000000"
            + "007856341201020000000000000000100000000000000100010000000000000001000000000000000000000000000000000c48acd4"
            + "600600097072696d6172792d31404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
            + "d7dbefa971587362c1d4304675f4f3e42a4d8bd799a7c42b141e115a420c864120ecee0d"
        #expect(hexString(MessageCodec.encode(.hello(signed))) == expected)
    }
}
