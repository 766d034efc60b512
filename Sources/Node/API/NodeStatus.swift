import Repository
import Tranlog

/// `GET /status` and `understudy status --json`.
public struct NodeStatus: Codable, Sendable {
    /// A `NodeRole`: `primary`, `standby`, `restoring`, `promoting` or `fenced` (docs/ROLES.md).
    public var role: String
    /// The Understudy version serving the node.
    public var version: String
    public var httpAddress: String
    /// Where standbys connect, the real port; nil when the node does not listen for them (no
    /// `--replication-key-file`, or a standby started without `--replication`).
    public var replicationAddress: String?
    public var uptimeSeconds: Double
    /// When `repository` was read, by this node's clock: `time` − `repository.applied.time` is the
    /// age of the last applied commit at that moment, without the request's round trip.
    public var time: Timestamp
    /// The data directory, absolute: where `understudy backup snapshot` copies from (on this machine).
    public var dataDirectory: String
    /// The restoreStatus line of the reference manual: "Restore is not active" on a primary,
    /// "Restoring from transaction log files, restored to …, nextFileId = N, record = R oldest fileId = M"
    /// in restore mode.
    public var restoreStatus: String
    public var repository: RepositoryStatus
    /// The fence in force: this node learned of a newer epoch and refuses commits.
    public var fenced: FenceStatus?
    /// On a primary serving standbys: each connected standby (PostgreSQL's pg_stat_replication).
    public var standbys: [StandbyConnectionStatus]?
    /// On a primary serving standbys: the tranlog kept for them and the runway under the limit.
    public var retention: RetentionStatus?
    /// On a primary requiring synchronous standbys: its state, and the standbys counted.
    public var synchronous: SynchronousReplicationStatus?
    /// On a standby: its receiver and lag per stage.
    public var replication: StandbyReplicationStatus?
    /// With `--archive-dir`: how far archiving got, its backlog and last error.
    public var archive: ArchiveStatus?
    /// On a warm standby (`standby --archive`): what it applies from its archive.
    public var warmStandby: WarmStandbyStatus?
    /// On a standby whose data directory was made by a base copy at this start: how that went.
    public var baseCopy: BaseCopyStatus?
    /// On a node managed by `understudy join`: its cluster, the leader, and why commits are held.
    public var cluster: ClusterMembershipStatus?
}

public enum UnderstudyVersion {
    public static let current = "0.1.0"
}
