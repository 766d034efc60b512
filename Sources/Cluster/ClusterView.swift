/// A cluster as etcd holds it, for `understudy cluster status`: who holds the lease and for how long
/// yet, the last epoch claimed, and each member as it published itself.
public struct ClusterView: Codable, Sendable {
    public var cluster: String
    public var leader: LeaderRecord?
    /// Seconds left on the leader's lease, and the TTL it was granted.
    public var leaseRemainingSeconds: Int64?
    public var leaseTTLSeconds: Int64?
    public var lastClaim: EpochClaim?
    public var members: [Member]
    /// What replaced primaries lost, oldest first: kept until an operator deletes the keys.
    public var losses: [LossRecord]

    /// A member with its lag behind the leader per stage, in records.
    public struct Member: Codable, Sendable {
        public var record: MemberRecord
        public var flushedLagRecords: UInt64?
        public var appliedLagRecords: UInt64?
    }

    public static func read(_ etcd: EtcdClient, cluster: String) throws(ClusterViewError) -> ClusterView {
        let keys = ClusterKeys(cluster: cluster)
        do {
            let leaderKey = try etcd.get(keys.leader)
            let leader = try leaderKey.map { held throws(ClusterError) in try ClusterJSON.decode(LeaderRecord.self, held.value, key: keys.leader) }
            let lease = try leaderKey.map { held throws(EtcdError) in try etcd.leaseTimeToLive(held.lease) }
            let claim = try etcd.get(keys.epoch).map { held throws(ClusterError) in try ClusterJSON.decode(EpochClaim.self, held.value, key: keys.epoch) }
            var records: [MemberRecord] = []
            for held in try etcd.list(prefix: keys.membersPrefix) {
                records.append(try ClusterJSON.decode(MemberRecord.self, held.value, key: held.key))
            }
            var losses: [LossRecord] = []
            for held in try etcd.list(prefix: keys.lossesPrefix) {
                losses.append(try ClusterJSON.decode(LossRecord.self, held.value, key: held.key))
            }
            let top = records.first { $0.name == leader?.name }?.appliedSeqno
            let members = records.map { record in
                Member(record: record, flushedLagRecords: top.map { $0 > record.flushedSeqno ? $0 - record.flushedSeqno : 0 },
                       appliedLagRecords: top.map { $0 > record.appliedSeqno ? $0 - record.appliedSeqno : 0 })
            }
            return ClusterView(cluster: cluster, leader: leader, leaseRemainingSeconds: lease?.remainingSeconds, leaseTTLSeconds: lease?.grantedSeconds,
                               lastClaim: claim, members: members, losses: losses.sorted { $0.at < $1.at })
        } catch let error as EtcdError {
            throw .etcd(error)
        } catch let error as ClusterError {
            throw .cluster(error)
        } catch {
            preconditionFailure("unexpected \(error)")
        }
    }
}

public enum ClusterViewError: Error, Sendable, CustomStringConvertible {
    case etcd(EtcdError)
    case cluster(ClusterError)

    public var description: String {
        switch self {
        case .etcd(let error): "\(error)"
        case .cluster(let error): "\(error)"
        }
    }
}
