import Testing

@testable import Tranlog

/// Every stored CRC (frames, file headers, extent blocks, manifests, backups, replication messages)
/// is zlib's CRC-32: the implementation may change, the values may not.
@Suite struct ChecksumTests {
    @Test func theStandardCheckValueAndTheEmptyInput() {
        #expect(Checksum.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(Checksum.crc32([]) == 0)
        #expect(Checksum.crc32([0x00]) == 0xD202_EF8D)
    }

    @Test func aSeedContinuesTheChecksumOfWhatCameBefore() {
        let bytes = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        for split in [0, 1, 15, 16, 17, 63, 64, 65, 1000, 4999, 5000] {
            #expect(Checksum.crc32(bytes[split...], seed: Checksum.crc32(bytes[..<split])) == Checksum.crc32(bytes), "split at \(split)")
        }
    }
}
