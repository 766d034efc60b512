/// The replication wire protocol's identity, checked first in every handshake so that a peer of
/// another protocol or version is refused with a reason instead of misread.
public enum ReplicationProtocol {
    /// The first bytes a standby sends on a replication connection.
    public static let magic: [UInt8] = Array("USREPL".utf8)
    /// Bumped on any incompatible change; a primary refuses other versions, naming both.
    public static let version: UInt16 = 1
}
