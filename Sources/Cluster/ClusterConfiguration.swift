import Node
import Transport

/// How a managed node (`understudy join`) takes part in its cluster.
public struct ClusterConfiguration: Sendable {
    /// The cluster's name: its keys live under `/understudy/NAME/`.
    public var cluster: String
    /// This node's name, unique in the cluster.
    public var name: String
    /// The leader lease's TTL (default 10 s): a dead leader is replaced within about this long.
    public var ttl: Duration = .seconds(10)
    /// A returning old primary that was replaced re-seeds itself by base copy; false: it stays fenced,
    /// with a status saying so, until an operator acts.
    public var autoReseed = true
    /// The node as it runs: data directory, HTTP and replication addresses, key file, synchronous
    /// replication. Its role fields are set by the supervisor.
    public var node: NodeConfiguration

    public init(cluster: String, name: String, node: NodeConfiguration) {
        self.cluster = cluster
        self.name = name
        self.node = node
    }

    /// How often the supervisor refreshes its keys and looks at the leader: a third of the TTL, at most
    /// a second.
    public var tickInterval: Duration { min(.seconds(1), ttl / 3) }

    /// Taken off the TTL for the leader's own deadline: etcd counts the lease from when it got the
    /// keepalive, the leader from before it sent it, and clocks run at slightly different rates.
    public var safetyMargin: Duration { max(.milliseconds(500), ttl / 4) }

    public func validate() -> String? {
        if cluster.isEmpty || cluster.contains("/") { return "--cluster must be a non-empty name without '/'" }
        if name.isEmpty || name.contains("/") { return "--name must be a non-empty name without '/'" }
        if ttl < .seconds(2) { return "--ttl must be at least 2 seconds (etcd's minimum lease)" }
        if node.replicationKeyFile == nil { return "a cluster member replicates: give --replication-key-file" }
        if node.replicationAddress.port == 0 || node.httpAddress.port == 0 {
            return "a cluster member publishes its addresses and keeps them across role changes: give --http and --replication real ports, not 0"
        }
        return node.validate()
    }
}
