internal import CZlib

/// CRC-32 (the zlib/IEEE polynomial), computed by zlib's `crc32_z`, which takes a 64-bit length.
public enum Checksum {
    public static func crc32(_ bytes: ArraySlice<UInt8>, seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            UInt32(truncatingIfNeeded: CZlib.crc32_z(UInt(seed), buffer.baseAddress, buffer.count))
        }
    }

    public static func crc32(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        crc32(bytes[...], seed: seed)
    }

    /// The CRC of two byte runs back to back from the CRC of each (zlib's `crc32_combine`, a few
    /// dozen operations whatever the lengths): lets the long part of a frame be checksummed before
    /// its short, position-dependent header is known.
    public static func combine(_ first: UInt32, _ second: UInt32, secondLength: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: CZlib.crc32_combine(UInt(first), UInt(second), .init(secondLength)))
    }
}
