import Crypto
import Tranlog

/// The base copy's two proofs, both HMAC-SHA256 under the replication key: the standby's request
/// over the primary's challenge (the standby holds the key), and the primary's end over the
/// standby's nonce (the backup, its repository id and position come from a holder of the key, and
/// were received whole: the end carries the SHA-256 of every byte sent).
public enum BaseCopyProof {
    public static func makeNonce() -> [UInt8] { ReplicationKey.randomBytes(BaseCopyProtocol.nonceBytes) }

    /// A pin's id: names it for a resume, not a secret (the resume request is signed anyway).
    public static func makePinID() -> [UInt8] { ReplicationKey.randomBytes(BaseCopyProtocol.pinIDBytes) }

    public static func sign(_ request: BaseCopyRequest, challenge: [UInt8], key: ReplicationKey) -> BaseCopyRequest {
        var signed = request
        signed.proof = key.code(for: challenge + MessageCodec.baseCopyRequestFields(request))
        return signed
    }

    public static func verify(_ request: BaseCopyRequest, challenge: [UInt8], key: ReplicationKey) -> Bool {
        matchingKey(request, challenge: challenge, key: key) != nil
    }

    /// The accepted key the standby signed `request` with, to sign the copy's end under; nil: a wrong key.
    public static func matchingKey(_ request: BaseCopyRequest, challenge: [UInt8], key: ReplicationKey) -> ReplicationKey? {
        key.matching(code: request.proof, authenticating: challenge + MessageCodec.baseCopyRequestFields(request))
    }

    public static func sign(_ end: BaseCopyEnd, files: [BaseCopyFile], nonce: [UInt8], key: ReplicationKey) -> BaseCopyEnd {
        var signed = end
        signed.proof = key.code(for: nonce + MessageCodec.baseCopyEndFields(end, files: files))
        return signed
    }

    public static func verify(_ end: BaseCopyEnd, files: [BaseCopyFile], nonce: [UInt8], key: ReplicationKey) -> Bool {
        key.matching(code: end.proof, authenticating: nonce + MessageCodec.baseCopyEndFields(end, files: files)) != nil
    }
}

/// SHA-256 of one file's bytes, fed a chunk at a time (both sides compute it).
public struct BaseCopyDigest {
    private var hash = SHA256()
    public private(set) var byteCount: UInt64 = 0

    public init() {}

    public mutating func update(_ bytes: [UInt8]) {
        hash.update(data: bytes)
        byteCount += UInt64(bytes.count)
    }

    public func finalize() -> [UInt8] {
        Array(hash.finalize())
    }
}
