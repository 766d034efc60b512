import Tranlog

/// The replication wire protocol's identity, checked first in every handshake so that a peer of
/// another protocol or version is refused with a reason instead of misread.
public enum ReplicationProtocol {
    /// The first bytes of a standby's `hello`.
    public static let magic: [UInt8] = Array("USREPL".utf8)
    /// Bumped on any incompatible change; a primary refuses other versions, naming both.
    /// 2: heartbeats carry the primary's content digest. 3: heartbeats carry the standby's
    /// synchronous standing, acks the notice heard.
    public static let version: UInt16 = 3
    /// Bytes of the random challenge a primary sends when a connection opens.
    public static let challengeBytes = 32
    /// The longest message either side accepts: one maximal record frame plus room for the records
    /// header. A longer declared length closes the connection before anything is allocated for it.
    public static let maxMessageBytes = TranlogLimits.maxFrameBytes + 64 * 1024
    /// The longest message a primary accepts from a standby, which sends only a hello or a base-copy
    /// request (before it has proved it holds the key) and acks: 64 KiB holds a hello with an epoch
    /// history of over two hundred promotions of nodes with 255-byte names. A longer declared length
    /// closes the connection before its body is read, so an unauthenticated peer pins at most this
    /// plus one read, not `maxMessageBytes`.
    public static let maxStandbyMessageBytes = 64 * 1024
    /// The longest message a standby accepts before the welcome proved that its peer holds the key:
    /// the primary's bound on strangers, for the same reason (a welcome carries an epoch history
    /// like a hello's). Anyone answering on the primary's address pins at most this plus one read.
    public static let maxMessageBytesBeforeWelcome = maxStandbyMessageBytes
}
