import Repository

/// `GET /status` and `understudy status --json`.
public struct NodeStatus: Codable, Sendable {
    /// `primary` for now; `restoring` and `standby` come with replication.
    public var role: String
    /// The Understudy version serving the node.
    public var version: String
    public var httpAddress: String
    public var replicationAddress: String
    public var uptimeSeconds: Double
    /// The restoreStatus line of the reference manual: "Restore is not active" on a primary.
    public var restoreStatus: String
    public var repository: RepositoryStatus
}

public enum UnderstudyVersion {
    public static let current = "0.1.0"
}
