import Repository
import Tranlog

/// `POST /admin/tranlogs/purge` (and `understudy tranlog purge --node`): the same plan as on a
/// stopped node, checked and carried out by the running node. Answers a `PurgeReport`.
public struct TranlogPurgeRequest: Codable, Sendable {
    /// Remove through this fileId; absent: every file nothing needs.
    public var throughFileID: FileID?
    /// Override a known standby's or an unfinished restore's need (never recovery's).
    public var force: Bool
    /// Only report what would be removed.
    public var dryRun: Bool

    public init(throughFileID: FileID?, force: Bool, dryRun: Bool) {
        self.throughFileID = throughFileID
        self.force = force
        self.dryRun = dryRun
    }
}

/// `DELETE /admin/standbys/{nodeId}`: the standby forgotten, its tranlogs no longer kept.
public struct ForgetStandbyReply: Codable, Sendable {
    public var forgotten: KnownStandby
}
