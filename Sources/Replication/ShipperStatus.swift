import Tranlog
import Transport

/// What the primary knows about one standby connection: for `status`, metrics and log retention.
public struct ShipperStatus: Sendable {
    public enum State: Sendable, Equatable {
        case handshaking
        case streaming
        /// Pinning a checkpoint for, or sending its files to, an empty standby (a base copy).
        case sendingBaseCopy
        case closed(String)
    }

    public var peer: SocketAddress
    public var state = State.handshaking
    /// The standby's node name, once its hello arrived.
    public var standby: SourceID?
    public var rejection: RejectReason?
    /// The last record sent.
    public var sentSeqno = Seqno.zero
    /// Set once everything durable was sent since admission (PostgreSQL's walsender leaving
    /// `catchup`): from then on a synchronous commit waits at most for what is in flight.
    public var caughtUp = false
    /// The last ack's positions and when it arrived (primary clock).
    public var acked = Ack(received: .zero, flushed: .zero, applied: .zero)
    public var lastAckTime: Timestamp?
    /// The commit time of the last record the standby acknowledged as applied, when the shipper sent
    /// it (`LagRule`: the standby's applied lag is the primary's clock minus this). Nil until then.
    public var appliedTime: Timestamp?
    /// The first log byte the standby has not acknowledged as flushed: retention keeps this file
    /// and every later one for it.
    public var retainFrom: EventID?
    /// Bytes of frames sent but not yet acknowledged as flushed.
    public var unflushedBytes: UInt64 = 0
    /// Frame bytes shipped, and the bytes they took in records messages on the wire, envelopes left
    /// out (less when compressed): `compressionRatio` is their quotient, exactly 1 without --compress.
    public var shippedFrameBytes: UInt64 = 0
    public var wireRecordBytes: UInt64 = 0

    public var compressionRatio: Double {
        wireRecordBytes == 0 ? 1 : Double(shippedFrameBytes) / Double(wireRecordBytes)
    }

    init(peer: SocketAddress) {
        self.peer = peer
    }
}
