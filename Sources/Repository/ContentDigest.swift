import Crypto
import Tranlog

/// An order-independent digest of a repository's whole content: the sum, lane by lane mod 2^64,
/// of a 128-bit hash of every object (key, value and the seqno that wrote it). A sum changes in
/// O(1) per write — add the new object's hash, subtract the one it replaces — and two repositories
/// holding the same objects have the same digest whatever order they were written in.
public struct ContentDigest: Hashable, Sendable, Codable, CustomStringConvertible {
    public private(set) var high: UInt64
    public private(set) var low: UInt64

    public static let empty = ContentDigest(high: 0, low: 0)

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// 32 lowercase hex digits, high lane first.
    public var description: String { Self.hex(high) + Self.hex(low) }

    public init?(hex: String) {
        guard hex.count == 32, let high = UInt64(hex.prefix(16), radix: 16), let low = UInt64(hex.suffix(16), radix: 16) else { return nil }
        self.init(high: high, low: low)
    }

    /// Adds one object's `hash`.
    mutating func add(_ hash: ContentDigest) {
        high &+= hash.high
        low &+= hash.low
    }

    /// Subtracts one object's `hash`.
    mutating func remove(_ hash: ContentDigest) {
        high &-= hash.high
        low &-= hash.low
    }

    /// SHA-256 of (key length as UInt32 LE, key, seqno as UInt64 LE, value), its first 16 bytes read
    /// as two UInt64 LE lanes. The length prefix keeps (key, value) pairs that concatenate alike
    /// apart. It runs for every object written or applied (the digest was 27% of a standby's catch-up
    /// in the profile; an object keeps its hash, so an overwrite hashes only the new object). The
    /// four parts are copied into one buffer (on the stack, for the small objects that dominate)
    /// and hashed with one update: swift-crypto's overhead per update (a uniqueness check and
    /// exclusivity checks on its context) cost more than the copy.
    static func hash(key: [UInt8], value: [UInt8], seqno: Seqno) -> ContentDigest {
        key.withUnsafeBytes { key in value.withUnsafeBytes { value in hash(key: key, value: value, seqno: seqno) } }
    }

    private static func hash(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, seqno: Seqno) -> ContentDigest {
        let seqnoOffset = 4 + key.count
        return withUnsafeTemporaryAllocation(byteCount: seqnoOffset + 8 + value.count, alignment: 8) { message in
            message.storeBytes(of: UInt32(key.count).littleEndian, toByteOffset: 0, as: UInt32.self)
            UnsafeMutableRawBufferPointer(rebasing: message[4..<seqnoOffset]).copyMemory(from: key)
            message.storeBytes(of: seqno.rawValue.littleEndian, toByteOffset: seqnoOffset, as: UInt64.self)
            UnsafeMutableRawBufferPointer(rebasing: message[(seqnoOffset + 8)...]).copyMemory(from: value)
            var hasher = SHA256()
            hasher.update(bufferPointer: UnsafeRawBufferPointer(message))
            return hasher.finalize().withUnsafeBytes { digest in
                ContentDigest(
                    high: UInt64(littleEndian: digest.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                    low: UInt64(littleEndian: digest.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            }
        }
    }

    // Stored and shown as its hex string (MANIFEST, status, heartbeats in text).
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let digest = ContentDigest(hex: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a 32-digit hex content digest: \(text)"))
        }
        self = digest
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private static func hex(_ lane: UInt64) -> String {
        let digits = String(lane, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// A repository's content digest and the applied seqno it stands at.
public struct PositionedDigest: Hashable, Sendable, Codable, CustomStringConvertible {
    public var seqno: Seqno
    public var value: ContentDigest

    public init(seqno: Seqno, value: ContentDigest) {
        self.seqno = seqno
        self.value = value
    }

    public var description: String { "\(value) at seqno \(seqno)" }
}
