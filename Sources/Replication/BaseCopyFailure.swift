/// Why a base copy did not complete. Every case leaves the standby's data directory untouched; after
/// a lost connection the next attempt resumes from the bytes received (when the primary still holds
/// the pin), after anything else the copy starts over.
public enum BaseCopyFailure: Error, Hashable, Sendable, CustomStringConvertible {
    case rejected(RejectReason)
    /// The connection could not be opened, or closed before the end, after `received` of `total` bytes.
    case connectionLost(String, received: UInt64, total: UInt64?)
    /// The primary broke the protocol (a chunk at the wrong offset, bytes past the announced size…).
    case protocolViolation(String)
    /// The bytes received do not match what the primary sent (a chunk's CRC, a file's size or SHA-256, the end's proof).
    case verification(String)
    /// The standby could not write or read its staging files (a full disk, say).
    case storage(String)
    /// `--primary` names something that does not speak the replication protocol (its HTTP port, say).
    case wrongPeer(WrongPeer)

    public var description: String {
        switch self {
        case .rejected(let reason): "the primary refused the base copy: \(reason)"
        case .connectionLost(let why, let received, let total):
            "the base copy was interrupted after \(received) of \(total.map(String.init) ?? "?") bytes (\(why)); the next attempt resumes it if the primary still holds its pin"
        case .protocolViolation(let why): "the primary broke the base-copy protocol: \(why)"
        case .verification(let why): "the base copy does not verify: \(why)"
        case .storage(let why): "the base copy cannot be stored: \(why)"
        case .wrongPeer(let wrongPeer): "no base copy: \(wrongPeer)"
        }
    }

    /// Whether trying again later may succeed without the operator changing anything. A wrong peer
    /// is retried, like a refused stream: the address may be right and the primary not up yet.
    public var isRetryable: Bool {
        switch self {
        case .rejected(.backupInProgress), .rejected(.baseCopyFailed), .connectionLost, .wrongPeer: true
        case .rejected, .protocolViolation, .verification, .storage: false
        }
    }
}
