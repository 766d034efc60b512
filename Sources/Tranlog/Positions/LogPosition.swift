/// A point in the repository's history: the seqno of a record and the epoch it belongs to.
///
/// Deliberately not `Comparable`: two positions are only ordered if they lie on one history, which
/// `EpochHistory.order(_:_:)` decides. Comparing bare seqnos across a fork is how data gets replayed
/// onto the wrong timeline.
public struct LogPosition: Hashable, Sendable, Codable, CustomStringConvertible {
    public var epoch: Epoch
    public var seqno: Seqno

    public init(epoch: Epoch, seqno: Seqno) {
        self.epoch = epoch
        self.seqno = seqno
    }

    public var description: String { "epoch \(epoch) seqno \(seqno)" }
}
