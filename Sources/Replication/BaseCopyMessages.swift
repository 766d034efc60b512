import Tranlog

/// The base copy's own version, carried by its request: its messages may change without touching the
/// streaming protocol's `hello`. A primary refuses another version with `protocolVersion`.
public enum BaseCopyProtocol {
    /// The first bytes of a `baseCopyRequest`.
    public static let magic: [UInt8] = Array("USBASE".utf8)
    public static let version: UInt16 = 1
    /// Bytes of the standby's nonce, which the primary's `baseCopyEnd` proof signs.
    public static let nonceBytes = 32
    /// The largest chunk a primary sends: well under `ReplicationProtocol.maxMessageBytes`.
    public static let maxChunkBytes = 1024 * 1024
}

/// An empty standby asking for a base copy. It knows no repository id yet, so it proves it holds the
/// key over the challenge, its own name and a nonce of its own; the primary's `baseCopyEnd` signs the
/// nonce with the repository id, position and digest of what it sent, so the standby in turn knows
/// the backup came from a holder of the key, whole.
public struct BaseCopyRequest: Hashable, Sendable {
    public var sourceID: SourceID
    public var nonce: [UInt8]
    /// HMAC-SHA256 of the challenge followed by the request's other fields (see `BaseCopyProof`).
    public var proof: [UInt8]

    public init(sourceID: SourceID, nonce: [UInt8], proof: [UInt8] = []) {
        self.sourceID = sourceID
        self.nonce = nonce
        self.proof = proof
    }
}

/// The primary staged a full backup for the standby: `byteCount` bytes follow in `baseCopyData`.
public struct BaseCopyStart: Hashable, Sendable {
    public var repositoryID: RepositoryID
    public var byteCount: UInt64
    /// The backup file is gzip-compressed (as written by `fullBackup(compress: true)`).
    public var compressed: Bool

    public init(repositoryID: RepositoryID, byteCount: UInt64, compressed: Bool) {
        self.repositoryID = repositoryID
        self.byteCount = byteCount
        self.compressed = compressed
    }
}

/// Bytes of the backup file from `offset` on, verbatim.
public struct BaseCopyChunk: Hashable, Sendable {
    public var offset: UInt64
    public var bytes: [UInt8]

    public init(offset: UInt64, bytes: [UInt8]) {
        self.offset = offset
        self.bytes = bytes
    }
}

/// The backup was sent whole: where it stands, what was sent, and the primary's proof over both.
public struct BaseCopyEnd: Hashable, Sendable {
    public var repositoryID: RepositoryID
    /// The backup's applied position: the standby streams from `position.seqno.next`.
    public var position: LogPosition
    public var byteCount: UInt64
    /// CRC-32 of every byte sent (a quick check an operator can repeat with any tool).
    public var crc: UInt32
    /// SHA-256 of every byte sent (what the proof covers: a CRC can be forged, a digest cannot).
    public var digest: [UInt8]
    /// HMAC-SHA256 of the standby's nonce followed by the other fields (see `BaseCopyProof`).
    public var proof: [UInt8]

    public init(
        repositoryID: RepositoryID, position: LogPosition, byteCount: UInt64, crc: UInt32, digest: [UInt8], proof: [UInt8] = []
    ) {
        self.repositoryID = repositoryID
        self.position = position
        self.byteCount = byteCount
        self.crc = crc
        self.digest = digest
        self.proof = proof
    }
}
