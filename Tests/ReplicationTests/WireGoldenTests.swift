import Testing
import Tranlog

@testable import Replication

/// Pins protocol version 1 byte for byte: a change here is an incompatible protocol change, which
/// needs a new `ReplicationProtocol.version` (and a primary that refuses the old one by name).
@Suite struct WireGoldenTests {
    private func hexString(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    @Test func ackHeartbeatAndRejectAreFrozen() {
        #expect(hexString(MessageCodec.encode(.ack(Ack(received: Seqno(3), flushed: Seqno(2), applied: Seqno(1))))) == "21000000080300000000000000020000000000000001000000000000002b1fac81")
        #expect(hexString(MessageCodec.encode(.heartbeat(Heartbeat(lastSeqno: Seqno(258), primaryTime: Timestamp(rawValue: 1_000_000))))) == "1900000007020100000000000040420f000000000027cb5ea5")
        #expect(hexString(MessageCodec.encode(.reject(.logsRemoved(needed: Seqno(1), oldestAvailable: Seqno(40))))) == "1a0000000407010000000000000028000000000000001e570c39")
    }

    @Test func signedHelloIsFrozen() {
        let hello = Hello(
            repositoryID: testRepository, sourceID: standbySource, position: LogPosition(epoch: .first, seqno: Seqno(12)),
            recordCRC: 0x1234_5678, mirrorEnd: EventID(fileID: FileID(2), offset: 4096), history: firstEpochHistory)
        let signed = HelloProof.sign(hello, challenge: Array(0..<32), key: sharedKey)
        let expected = "9c0000000255535245504c01006f1c3e2a9b1d4c558e0f2a7b9c4d1e01097374616e6462792d3101000000000000000c000000000000"
            + "007856341201020000000000000000100000000000000100010000000000000001000000000000000000000000000000000c48acd4"
            + "600600097072696d6172792d314b13164152d7b54c9d493576760d82d4784baf071314d0d1557949d7ef6b72ddb020a2f7"
        #expect(hexString(MessageCodec.encode(.hello(signed))) == expected)
    }
}
