import Foundation
import Tranlog

/// `/understudy/NAME/losses/MEMBER-epoch-E`: the records a replaced primary made durable in its epoch
/// after its successor's epoch had begun, so that the successor never had them. Every acknowledged
/// commit an asynchronous failover lost is among them (with, at most, the few whose clients never
/// heard back). Counted from the old primary's own log when it returns, so it is exact; a promotion
/// alone can only give a lower bound, from the last position the primary announced.
public struct LossRecord: Codable, Sendable, Equatable {
    public var member: String
    /// The replaced primary's epoch, the one the lost records belong to.
    public var epoch: UInt64
    public var successor: String
    public var successorEpoch: UInt64
    /// The lost seqnos, first through last (both nil when none was lost or it is unknown).
    public var firstSeqno: UInt64?
    public var lastSeqno: UInt64?
    /// How many; nil when unknown: the successor's history does not hold this member's epoch as this
    /// member knows it (their histories parted before it), so only the kept directory can tell.
    public var records: UInt64?
    /// Where the records are: the old primary's data directory, moved aside before its re-seed.
    public var keptIn: String
    /// RFC 3339.
    public var at: String

    /// What `member`, whose history is `own` and whose log is durable through `durableThrough`, lost to
    /// the successor named by `claim`.
    static func of(
        member: String, own: EpochHistory, durableThrough last: Seqno, claim: EpochClaim, keptIn: String, at: Timestamp
    ) -> LossRecord {
        var record = LossRecord(
            member: member, epoch: own.current.epoch.rawValue, successor: claim.node, successorEpoch: claim.epoch, firstSeqno: nil,
            lastSeqno: nil, records: nil, keptIn: keptIn, at: at.iso8601)
        guard let history = claim.history, let fork = forkSeqno(own: own, successor: history) else { return record }
        guard last >= fork else {
            record.records = 0
            return record
        }
        record.firstSeqno = fork.rawValue
        record.lastSeqno = last.rawValue
        record.records = last.rawValue - fork.rawValue + 1
        return record
    }

    /// The first seqno the successor's branch gave a record of its own after leaving this node's
    /// current epoch; nil when its history does not hold that epoch as this node knows it.
    static func forkSeqno(own: EpochHistory, successor: [EpochEntry]) -> Seqno? {
        let mine = own.current
        guard successor.contains(where: { $0.sameBranch(as: mine) }) else { return nil }
        return successor.first { $0.parentEpoch == mine.epoch && $0.epoch > mine.epoch }?.startSeqno
    }

    /// One line for the log and `cluster status`.
    public var summary: String {
        let what: String
        switch (records, firstSeqno, lastSeqno) {
        case (0, _, _): what = "lost nothing"
        case (let count?, let first?, let last?): what = "lost \(count) record(s), seqnos \(first)…\(last) of epoch \(epoch)"
        default: what = "lost an unknown number of records of epoch \(epoch) (\(successor)'s history parted from it earlier)"
        }
        return "\(member), replaced by \(successor) (epoch \(successorEpoch)), \(what); its directory is kept in \(keptIn)"
    }
}
