import Tranlog

/// The base copy's own version, carried by its request: its messages may change without touching the
/// streaming protocol's `hello`. A primary refuses another version with `protocolVersion`.
public enum BaseCopyProtocol {
    /// The first bytes of a `baseCopyRequest`.
    public static let magic: [UInt8] = Array("USBASE".utf8)
    /// 2: the primary's files streamed under a checkpoint pin, resumable (1 was a staged gzip backup).
    public static let version: UInt16 = 2
    /// Bytes of the standby's nonce, which the primary's `baseCopyEnd` proof signs.
    public static let nonceBytes = 32
    /// Bytes of a pin's id.
    public static let pinIDBytes = 16
    /// The largest chunk a primary sends: well under `ReplicationProtocol.maxMessageBytes`.
    public static let maxChunkBytes = 1024 * 1024
    /// The most files one copy lists (a data directory holds a few dozen).
    public static let maxFiles = 100_000
}

/// Where an interrupted copy stands on the standby: the pin it was copying and how many bytes of
/// each listed file it holds durably. The primary sends only the rest, if it still holds that pin.
public struct BaseCopyResume: Hashable, Sendable {
    public var pinID: [UInt8]
    /// Bytes held of each file of the pin's list, in its order.
    public var held: [UInt64]

    public init(pinID: [UInt8], held: [UInt64]) {
        self.pinID = pinID
        self.held = held
    }
}

/// An empty standby asking for a base copy. It knows no repository id yet, so it proves it holds the
/// key over the challenge, its own name, a nonce of its own and what it asks to resume; the primary's
/// `baseCopyEnd` signs the nonce with the repository id, position, file list and each file's SHA-256,
/// so the standby in turn knows the copy came from a holder of the key, whole.
public struct BaseCopyRequest: Hashable, Sendable {
    public var sourceID: SourceID
    public var nonce: [UInt8]
    public var resume: BaseCopyResume?
    /// HMAC-SHA256 of the challenge followed by the request's other fields (see `BaseCopyProof`).
    public var proof: [UInt8]

    public init(sourceID: SourceID, nonce: [UInt8], resume: BaseCopyResume? = nil, proof: [UInt8] = []) {
        self.sourceID = sourceID
        self.nonce = nonce
        self.resume = resume
        self.proof = proof
    }
}

/// A file of the copy: its path below the data directory (`extents/MANIFEST`) and its size.
public struct BaseCopyFile: Hashable, Sendable {
    public var path: String
    public var size: UInt64

    public init(path: String, size: UInt64) {
        self.path = path
        self.size = size
    }

    /// A relative path of plain components: nothing a primary sends can land outside the directory.
    public var isSafe: Bool {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        return !path.isEmpty && path.utf8.count <= 255 && !path.hasPrefix("/")
            && components.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }
}

/// The primary pinned a checkpoint (or still holds the one the standby resumes): these files follow
/// in `baseCopyData`, in list order, each from the byte the standby holds.
public struct BaseCopyStart: Hashable, Sendable {
    public var repositoryID: RepositoryID
    public var pinID: [UInt8]
    public var files: [BaseCopyFile]

    public init(repositoryID: RepositoryID, pinID: [UInt8], files: [BaseCopyFile]) {
        self.repositoryID = repositoryID
        self.pinID = pinID
        self.files = files
    }

    public var byteCount: UInt64 { files.reduce(0) { $0 + $1.size } }
}

/// Bytes of file `file` (an index into the start's list) from `offset` on, with their CRC-32: a byte
/// damaged on the way is refused at once, naming the file.
public struct BaseCopyChunk: Hashable, Sendable {
    public var file: UInt32
    public var offset: UInt64
    public var crc: UInt32
    public var bytes: [UInt8]

    public init(file: UInt32, offset: UInt64, bytes: [UInt8]) {
        self.init(file: file, offset: offset, crc: Checksum.crc32(bytes), bytes: bytes)
    }

    public init(file: UInt32, offset: UInt64, crc: UInt32, bytes: [UInt8]) {
        self.file = file
        self.offset = offset
        self.crc = crc
        self.bytes = bytes
    }
}

/// Every file was sent whole: where the copy stands, each file's SHA-256, and the primary's proof.
public struct BaseCopyEnd: Hashable, Sendable {
    public var repositoryID: RepositoryID
    /// The last durable commit when the checkpoint was pinned: the copy holds at least this.
    public var position: LogPosition
    public var pinID: [UInt8]
    /// SHA-256 of each file of the start's list, in its order.
    public var digests: [[UInt8]]
    /// HMAC-SHA256 of the standby's nonce, the file list and the other fields (see `BaseCopyProof`).
    public var proof: [UInt8]

    public init(repositoryID: RepositoryID, position: LogPosition, pinID: [UInt8], digests: [[UInt8]], proof: [UInt8] = []) {
        self.repositoryID = repositoryID
        self.position = position
        self.pinID = pinID
        self.digests = digests
        self.proof = proof
    }
}
