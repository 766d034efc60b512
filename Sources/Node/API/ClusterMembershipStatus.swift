/// `cluster` in `GET /status` on a node managed by `understudy join` (docs/HTTP-API.md).
public struct ClusterMembershipStatus: Codable, Sendable, Equatable {
    /// A write refused by a member that is not the leader names the leader's HTTP URL here.
    public static let primaryHeader = "Understudy-Primary"

    /// The cluster's name (`--cluster`).
    public var name: String
    /// This node's name in it (`--name`).
    public var member: String
    /// `leader`, `standby`, `candidate`, `fenced`, … as in the member key.
    public var role: String
    /// Who holds the leader lease, as last read from etcd; nil while nobody does (or etcd is unreachable).
    public var leader: String?
    /// The leader's HTTP API, `http://HOST:PORT`.
    public var leaderURL: String?
    /// The leader's epoch.
    public var leaderEpoch: UInt64?
    /// What the supervisor does or waits for, in a few words (`etcd unavailable: …` included).
    public var state: String
    /// Why this node refuses commits now; nil while it is the leader and can prove it holds the lease.
    public var commitsHeld: String?

    public init(name: String, member: String, role: String, leader: String?, leaderURL: String?, leaderEpoch: UInt64?, state: String,
                commitsHeld: String?) {
        self.name = name
        self.member = member
        self.role = role
        self.leader = leader
        self.leaderURL = leaderURL
        self.leaderEpoch = leaderEpoch
        self.state = state
        self.commitsHeld = commitsHeld
    }
}
