import Repository
import Tranlog

/// A standby's continuous self-check: the primary's content digest at a seqno, heard in its
/// heartbeats, against the standby's own once it stands at that same seqno. Records carry CRCs,
/// so a damaged record never gets this far; what this catches is content that went wrong while
/// every record was right (a damaged checkpoint, an apply that wrote something else).
public struct DigestWatch: Sendable {
    /// The latest digest heard from the primary; an older one is of no use once a newer arrived.
    public private(set) var heard: PositionedDigest?

    public init() {}

    public mutating func hear(_ digest: PositionedDigest) {
        heard = digest
    }

    /// The divergence, when `applied` stands where the latest heard digest was taken and differs
    /// from it; nil otherwise (not there yet, already past it, or equal).
    public func divergence(of applied: PositionedDigest) -> Divergence? {
        guard let heard, heard.seqno == applied.seqno, heard.value != applied.value else { return nil }
        return Divergence(seqno: applied.seqno, primary: heard.value, standby: applied.value)
    }
}

/// A standby whose content differs from its primary's at the same seqno.
public struct Divergence: Hashable, Sendable, CustomStringConvertible {
    public var seqno: Seqno
    public var primary: ContentDigest
    public var standby: ContentDigest

    public var description: String {
        "the content diverged from the primary's at seqno \(seqno): the primary's digest is \(primary), this standby's \(standby)"
    }
}
