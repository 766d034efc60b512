import Foundation
import Node
import Tranlog
import Transport

/// A planned switchover (`understudy cluster switchover`), on the leader: hold commits, wait until the
/// target has flushed everything this node made durable, then give up the lease; the election lets only
/// the target take it. Zero loss: every acknowledged commit is on the target before it can lead.
extension ClusterSupervisor {
    /// How long the leader waits for the target to catch up before giving up the switchover.
    static let switchoverCatchUp = Duration.seconds(10)

    func readSwitchover() throws(SupervisorFailure) -> SwitchoverRequest? {
        guard let held = try etcdCall({ () throws(EtcdError) in try etcd.get(keys.switchover) }) else { return nil }
        do { return try ClusterJSON.decode(SwitchoverRequest.self, held.value, key: keys.switchover) } catch { throw .cluster(error) }
    }

    func handOver(_ request: SwitchoverRequest) throws(SupervisorFailure) {
        guard let node, let lease = leaderLease else { return }
        guard let target = try readMembers().first(where: { $0.name == request.to }), target.eligible, target.role == "standby" else {
            try etcdCall { () throws(EtcdError) in try etcd.delete(keys.switchover) }
            return set(state: "switchover to \(request.to) refused: it is no eligible standby")
        }
        deadline.revoke("switchover to \(target.name) in progress: write to it once it leads")
        let through = node.repository.status.applied.seqno
        set(state: "switchover to \(target.name): commits held, waiting until it flushed seqno \(through)")
        guard awaitFlushed(target, through: through) else {
            try etcdCall { () throws(EtcdError) in try etcd.delete(keys.switchover) }
            try renewLeadership()
            return set(state: "switchover to \(target.name) abandoned: it did not flush seqno \(through) within \(Self.switchoverCatchUp)")
        }
        try etcdCall { () throws(EtcdError) in try etcd.revokeLease(lease) }
        leaderLease = nil
        set(state: "handed the lease to \(target.name) (it holds every commit through seqno \(through))")
        // Refused writes name the new leader as soon as it leads, not a tick later.
        let next = try awaitLeaderChange(from: configuration.name, untilTaken: true)
        published.withLock { $0.leader = next?.record }
    }

    /// Polls the leader key, more often than a tick, until it no longer names `previous` (and, with
    /// `untilTaken`, names another node) or the catch-up time ran out: a switchover's two sides each
    /// wait for the other.
    func awaitLeaderChange(from previous: String, untilTaken: Bool = false) throws(SupervisorFailure) -> HeldLeader? {
        let deadline = ContinuousClock.now + Self.switchoverCatchUp + configuration.ttl
        while true {
            let leader = try readLeader()
            let changed = leader.map { $0.record.name != previous } ?? !untilTaken
            if changed || ContinuousClock.now >= deadline { return leader }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// Polls the target's own status (its member key is refreshed only each tick).
    private func awaitFlushed(_ target: MemberRecord, through: Seqno) -> Bool {
        guard let address = SocketAddress(parsing: Substring(target.http)) else { return false }
        let client: NodeClient
        do { client = try memberClient(address, timeout: .seconds(1)) } catch {
            logger.warning("switchover: cannot reach \(target.name) at \(address): \(error)")
            return false
        }
        defer { client.close() }
        let deadline = ContinuousClock.now + Self.switchoverCatchUp
        while ContinuousClock.now < deadline {
            do {
                if let flushed = try client.status().replication?.flushed.seqno, flushed >= through { return true }
            } catch {
                logger.debug("switchover: no status from \(target.name) yet: \(error)")  // asked again below
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }
}
