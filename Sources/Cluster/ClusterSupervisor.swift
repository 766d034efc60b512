import Foundation
import Logging
import Node
import Repository
import SystemPackage
import Tranlog
import Transport
import TransportUV

/// Runs one managed node (`understudy join`): publishes its member key, contends for the leader lease
/// and runs the node as the primary while it holds the lease, or as a standby of whoever holds it,
/// switching roles in the same process (the node object is stopped and started anew; a standby's
/// promotion is the node's own, whose commit point is the repository's commitRestore).
///
/// One thread ticks every `tickInterval`; etcd is polled (docs/DECISIONS.md). Commits are held by
/// `LeaderDeadline` whenever this node cannot prove it holds the lease.
public final class ClusterSupervisor: @unchecked Sendable {
    public let configuration: ClusterConfiguration
    public let deadline = LeaderDeadline()
    let etcd: EtcdClient
    let keys: ClusterKeys
    let logger: Logger
    /// The supervisor thread's own state (`@unchecked Sendable`): touched only by `run`'s thread,
    /// except `summary`, behind its lock.
    var node: UnderstudyNode?
    private var following: SocketAddress?
    private var memberLease: Int64?
    var leaderLease: Int64?
    /// The last winner of the lease as read at this tick: a primary it does not name was replaced.
    private var claim: EpochClaim?
    /// The etcd key of the last `LossRecord` this process wrote: one per replaced epoch, so a node
    /// replaced again later (in a newer epoch of its own) counts that loss too.
    private var lossRecorded: String?
    var state = "starting"
    /// What other threads read (`GET /status`, every commit): the leader, this node's role and state.
    let published = Locked(Published())
    private let stopping = Locked(false)
    /// SIGHUP asked for the TLS files to be read again; the supervisor thread does it at its next tick.
    private let tlsReloadRequested = Locked(false)
    /// This node's certificate and CA as a client of the other members' HTTP APIs (an election's and a
    /// switchover's fresh look at their status); nil without TLS. Supervisor thread only.
    private var clientTLS: TLSContext?
    private let finished = DispatchSemaphore(value: 0)

    public init(configuration: ClusterConfiguration, etcd: EtcdClient, logger: Logger) {
        self.configuration = configuration
        self.etcd = etcd
        keys = ClusterKeys(cluster: configuration.cluster)
        self.logger = logger
    }

    struct Published {
        var leader: LeaderRecord?
        var role = "starting"
        var state = "starting"
    }

    /// `https` when the members serve TLS (all of a cluster's members do, or none), else `http`.
    var scheme: String { configuration.node.tls == nil ? "http" : "https" }

    /// A client of another member's HTTP API, over TLS when the members serve it.
    func memberClient(_ address: SocketAddress, timeout: Duration) throws -> NodeClient {
        if clientTLS == nil, let tls = configuration.node.tls { clientTLS = try TLSContext(tls) }
        return try NodeClient(address: address, timeout: timeout, tls: clientTLS, logger: logger)
    }

    /// From any thread (SIGHUP): the node's certificates are read again at the next tick, on the
    /// supervisor's thread, never a loop's.
    public func requestTLSReload() {
        tlsReloadRequested.withLock { $0 = true }
    }

    private func reloadTLSIfRequested() {
        guard tlsReloadRequested.withLock({ requested in defer { requested = false }; return requested }) else { return }
        clientTLS = nil
        guard let node else { return logger.info("SIGHUP: no node running; it reads the TLS files when it starts") }
        do { try node.reloadTLS() } catch {
            logger.error("TLS certificates not reloaded, the previous ones stay in use: \(error)")
        }
    }

    /// This node's standing, for `GET /status` and every commit. Commits are held unless this node
    /// is the leader and its `LeaderDeadline` has not passed.
    public var standing: ClusterMembershipStatus {
        let now = published.withLock { $0 }
        var held = deadline.holdReason()
        // Another leader is where a refused client should go; this node, holding commits, is not.
        let elsewhere = now.leader.flatMap { $0.name == configuration.name ? nil : $0 }
        if held != nil, let leader = elsewhere { held = "this node is not the cluster's leader: \(leader.name) is, at \(scheme)://\(leader.http)" }
        return ClusterMembershipStatus(
            name: configuration.cluster, member: configuration.name, role: now.role, leader: now.leader?.name,
            leaderURL: (held == nil ? now.leader : elsewhere).map { "\(scheme)://\($0.http)" }, leaderEpoch: now.leader?.epoch, state: now.state,
            commitsHeld: held)
    }

    /// Starts the supervisor thread.
    public func start() {
        Thread.start(named: "cluster") { [self] in
            while !stopping.withLock({ $0 }) {
                let started = ContinuousClock.now
                tick()
                let rest = configuration.tickInterval - (ContinuousClock.now - started)
                if rest > .zero { Thread.sleep(forTimeInterval: rest.inSeconds) }
            }
            shutDown()
            finished.signal()
        }
    }

    /// Stops the node cleanly and gives up the leases (the leader's first, so another node takes over
    /// without waiting for the TTL).
    public func stop() {
        stopping.withLock { $0 = true }
        finished.wait()
    }

    private func shutDown() {
        deadline.revoke("this node is stopping")
        stopNode()
        for lease in [leaderLease, memberLease].compactMap({ $0 }) {
            do { try etcd.revokeLease(lease) } catch { logger.warning("cannot revoke etcd lease \(lease): \(error)") }
        }
    }

    // MARK: - One tick

    private func tick() {
        reloadTLSIfRequested()
        do throws(SupervisorFailure) {
            try ensureNodeForDirectory()
            try renewMemberLease()
            var leader = try readLeader()
            let switchover = try readSwitchover()
            if let held = leader, let switchover, switchover.to == configuration.name, held.record.name == switchover.from {
                leader = try awaitLeaderChange(from: held.record.name)
            }
            published.withLock { $0.leader = leader?.record }
            let claim = try readClaim()
            self.claim = claim
            if let leader, leader.lease == leaderLease, leaderLease != nil {
                try renewLeadership()
                try publishHistory(claim)
                if let switchover, switchover.from == configuration.name { try handOver(switchover) }
            } else {
                if leaderLease != nil { giveUpLeadership("the leader key is gone or held by another lease") }
                if let leader { try follow(leader.record, claim: claim) } else { try elect(claim: claim, switchover: switchover) }
            }
            try publishMember()
        } catch {
            set(state: "\(error)")
            logger.warning("cluster supervisor: \(error)")
        }
    }

    func set(state newState: String) {
        if newState != state { logger.notice("cluster member \(configuration.name): \(newState)") }
        state = newState
        published.withLock { $0.state = newState }
    }

    // MARK: - Leases

    private func renewMemberLease() throws(SupervisorFailure) {
        if let lease = memberLease {
            do { try etcd.keepAlive(lease); return } catch .leaseNotFound { memberLease = nil } catch { throw .etcd(error) }
        }
        memberLease = try etcdCall { () throws(EtcdError) in try etcd.grantLease(ttlSeconds: ttlSeconds).id }
    }

    private var ttlSeconds: Int64 { configuration.ttl.components.seconds }

    func renewLeadership() throws(SupervisorFailure) {
        guard let lease = leaderLease else { return }
        let sent = ContinuousClock.now
        do {
            try etcd.keepAlive(lease)
            deadline.renewed(sentAt: sent, ttl: configuration.ttl, margin: configuration.safetyMargin)
            set(state: "leader")
        } catch .leaseNotFound {
            giveUpLeadership("etcd no longer holds the leader lease")
        } catch {
            // The deadline runs out by itself: commits are held from then on, without etcd's help.
            throw .etcd(error)
        }
    }

    private func giveUpLeadership(_ reason: String) {
        deadline.revoke("not the cluster's leader: \(reason)")
        leaderLease = nil
        logger.warning("gave up the cluster's leadership: \(reason)")
    }

    // MARK: - Reading the cluster

    struct HeldLeader {
        var record: LeaderRecord
        var lease: Int64
    }

    func readLeader() throws(SupervisorFailure) -> HeldLeader? {
        guard let held = try etcdCall({ () throws(EtcdError) in try etcd.get(keys.leader) }) else { return nil }
        do { return HeldLeader(record: try ClusterJSON.decode(LeaderRecord.self, held.value, key: keys.leader), lease: held.lease) } catch {
            throw .cluster(error)
        }
    }

    private func readClaim() throws(SupervisorFailure) -> EpochClaim? {
        guard let held = try etcdCall({ () throws(EtcdError) in try etcd.get(keys.epoch) }) else { return nil }
        do { return try ClusterJSON.decode(EpochClaim.self, held.value, key: keys.epoch) } catch { throw .cluster(error) }
    }

    func readMembers() throws(SupervisorFailure) -> [MemberRecord] {
        let held = try etcdCall { () throws(EtcdError) in try etcd.list(prefix: keys.membersPrefix) }
        var members: [MemberRecord] = []
        for entry in held {
            do { members.append(try ClusterJSON.decode(MemberRecord.self, entry.value, key: entry.key)) } catch { throw .cluster(error) }
        }
        return members
    }

    /// An etcd request with its failure as the supervisor's; a delete's or put's result is often not needed.
    @discardableResult
    func etcdCall<Value>(_ body: () throws(EtcdError) -> Value) throws(SupervisorFailure) -> Value {
        do { return try body() } catch { throw .etcd(error) }
    }

    // MARK: - Election

    /// The leader key is free: the healthiest member tries to take it (`Election`).
    private func elect(claim: EpochClaim?, switchover: SwitchoverRequest?) throws(SupervisorFailure) {
        guard let node, let me = memberRecord() else { return set(state: "waiting for a leader to copy a base from") }
        guard me.eligible else { return set(state: "no leader; not eligible: \(me.state)") }
        let members = try readMembers()
        let synchronous = configuration.node.synchronous.standbys > 0 && claim != nil
        guard let best = Election.candidate(among: members, synchronous: synchronous, lastWinner: claim?.node, designated: switchover?.to)
        else {
            return set(state: "no leader, and no member may take the lease" + (synchronous ? " (synchronous: none was required)" : ""))
        }
        guard best.name == configuration.name else { return set(state: "no leader; \(best.name) is the healthiest candidate") }
        let restoring = node.repository.isRestoring
        if !restoring, let claim, claim.node != configuration.name {
            return set(state: "a primary replaced by \(claim.node) (epoch \(claim.epoch)): it may not lead")
        }
        // Member keys are up to a tick old: the members' own status says who holds the most now.
        let rivals = Election.admissible(members, synchronous: synchronous, lastWinner: claim?.node).filter { $0.name != configuration.name }
        if switchover?.to != configuration.name, let ahead = memberAhead(of: Self.electionSeqno(node.status), among: rivals) {
            return set(state: "no leader; \(ahead) has flushed more than this node: it should lead")
        }
        let epoch = node.repository.epochHistory.current.epoch.rawValue + (restoring ? 1 : 0)
        let sent = ContinuousClock.now
        let lease = try etcdCall { () throws(EtcdError) in try etcd.grantLease(ttlSeconds: ttlSeconds).id }
        let record = LeaderRecord(name: configuration.name, http: "\(node.httpAddress)", replication: "\(configuration.node.replicationAddress)", epoch: epoch)
        guard case .written = try etcdCall({ () throws(EtcdError) in try etcd.create(keys.leader, value: ClusterJSON.encode(record), lease: lease) }) else {
            try etcdCall { () throws(EtcdError) in try etcd.revokeLease(lease) }
            return set(state: "another member took the lease first")
        }
        leaderLease = lease
        published.withLock { $0.leader = record }
        try publishClaim(EpochClaim(node: configuration.name, epoch: epoch))
        if restoring { try promote(node) }
        deadline.renewed(sentAt: sent, ttl: configuration.ttl, margin: configuration.safetyMargin)
        if switchover?.to == configuration.name {
            try etcdCall { () throws(EtcdError) in try etcd.delete(keys.switchover) }
        }
        set(state: "leader")
        logger.notice("took the cluster's leader lease", metadata: ["epoch": "\(epoch)", "promoted": "\(restoring)"])
    }

    private func publishClaim(_ claim: EpochClaim) throws(SupervisorFailure) {
        try etcdCall { () throws(EtcdError) in try etcd.put(keys.epoch, value: ClusterJSON.encode(claim)) }
    }

    /// The leader adds its epoch history to its claim once (after its promotion is durable, and again
    /// if a write was lost): where its epoch began is how a replaced primary counts what it lost.
    private func publishHistory(_ claim: EpochClaim?) throws(SupervisorFailure) {
        guard let node, let claim, claim.node == configuration.name, claim.history == nil else { return }
        try publishClaim(EpochClaim(node: claim.node, epoch: claim.epoch, history: node.repository.epochHistory.entries))
    }

    private func promote(_ node: UnderstudyNode) throws(SupervisorFailure) {
        do {
            let report = try node.promote()
            logger.notice("promoted: \(report.message)")
        } catch {
            throw .promotion(error)
        }
    }

    // MARK: - Following

    /// Another node leads: be its standby. A primary of this node's own is fenced and re-seeded.
    private func follow(_ leader: LeaderRecord, claim: EpochClaim?) throws(SupervisorFailure) {
        guard let address = SocketAddress(parsing: Substring(leader.replication)) else {
            throw .cluster(.malformedRecord(key: keys.leader, detail: "replication address '\(leader.replication)'"))
        }
        if let node, node.repository.isRestoring, let fault = node.status.replication?.offline?.fault,
           fault.kind == .rejected || fault.kind == .diverged {
            guard configuration.autoReseed else {
                return set(state: "refused by the leader (\(fault.message)); started with --no-auto-reseed, so it waits: re-seed it")
            }
            logger.warning("re-seeding this standby: \(fault.message)")
            try reseed(to: asidePath())
        }
        if let node, !node.repository.isRestoring {
            try fence(node, by: leader)
            let aside = configuration.autoReseed ? asidePath() : configuration.node.dataDirectory.root.string
            guard try recordLoss(of: node, claim: claim, keptIn: aside) else {
                return set(state: "fenced: replaced by \(leader.name); waiting for it to publish where its epoch began, to count what this node lost")
            }
            guard configuration.autoReseed else {
                return set(state: "fenced: replaced by \(leader.name) (epoch \(leader.epoch)); started with --no-auto-reseed, so it waits: "
                    + "re-seed it (empty its data directory and join again) or `understudy unfence` it")
            }
            try reseed(to: aside)
        }
        if node == nil || following != address {
            stopNode()
            set(state: "following \(leader.name) at \(address)")
            try startNode(standbyOf: address)
        }
    }

    /// Durably fenced before anything else, so a restart before the re-seed acknowledges nothing.
    private func fence(_ node: UnderstudyNode, by leader: LeaderRecord) throws(SupervisorFailure) {
        let own = node.repository.epochHistory.current.epoch
        guard Epoch(leader.epoch) > own, !node.repository.isFenced else { return }
        do {
            _ = try node.repository.fence(at: NewerEpoch(
                epoch: Epoch(leader.epoch), node: leader.name, learnedFrom: "the cluster's leader key in etcd"))
        } catch {
            throw .promotion(error)
        }
    }

    /// Counts what this replaced primary holds that its successor never had (`LossRecord`) and keeps
    /// the count in etcd before its directory moves, so the count outlives the move and any crash after
    /// it. Once per replaced epoch: a later tick would count the same records.
    /// False while the successor has not yet added its history to its claim (it does within a tick).
    private func recordLoss(of node: UnderstudyNode, claim: EpochClaim?, keptIn: String) throws(SupervisorFailure) -> Bool {
        let own = node.repository.epochHistory
        let key = keys.loss(member: configuration.name, epoch: own.current.epoch.rawValue)
        guard lossRecorded != key, let claim, claim.node != configuration.name else { return true }
        guard claim.history != nil else { return false }
        let loss = LossRecord.of(
            member: configuration.name, own: own, durableThrough: node.status.repository.applied.seqno, claim: claim, keptIn: keptIn,
            at: .now())
        try etcdCall { () throws(EtcdError) in try etcd.put(key, value: ClusterJSON.encode(loss)) }
        lossRecorded = key
        if loss.records == 0 {
            logger.notice("replaced primary: \(loss.summary)", metadata: ["etcdKey": "\(key)"])
        } else {
            logger.error(
                "replaced primary: \(loss.summary). Commits this node acknowledged among them are not on the cluster: read them from the kept directory",
                metadata: ["etcdKey": "\(key)"])
        }
        return true
    }

    private func asidePath() -> String {
        configuration.node.dataDirectory.root.string + ".replaced-" + String(Int(Date().timeIntervalSince1970))
    }

    /// Moves the data directory aside to `aside` (kept, never deleted: it may hold commits the new
    /// primary lacks) so the standby starts on an empty one and copies a base from the leader.
    private func reseed(to aside: String) throws(SupervisorFailure) {
        stopNode()
        let root = configuration.node.dataDirectory.root.string
        do { try FileManager.default.moveItem(atPath: root, toPath: aside) } catch {
            throw .reseed("cannot move \(root) aside to \(aside): \(error)")
        }
        logger.notice("re-seeding: the replaced primary's data directory is kept in \(aside)")
    }

    // MARK: - The node

    /// At the first tick: a data directory holding a repository runs at once (a primary holding its
    /// commits, or a standby of the last leader); an empty one waits for a leader to copy from.
    private func ensureNodeForDirectory() throws(SupervisorFailure) {
        guard node == nil, holdsRepository else { return }
        try startNode(standbyOf: nil)
    }

    private var holdsRepository: Bool {
        FileManager.default.fileExists(atPath: configuration.node.dataDirectory.configFile.string)
    }

    private func startNode(standbyOf primary: SocketAddress?) throws(SupervisorFailure) {
        var node = configuration.node
        node.standbyOf = primary
        node.standbyServesWhenPromoted = primary != nil
        node.cluster = { [self] in standing }
        do { self.node = try UnderstudyNode(configuration: node, logger: logger) } catch { throw .node(error) }
        following = primary
    }

    private func stopNode() {
        guard let node else { return }
        do { try node.stop() } catch { logger.error("stopping the node failed: \(error)") }
        self.node = nil
        following = nil
    }

    // MARK: - The member key

    private func memberRecord() -> MemberRecord? {
        guard let node else { return nil }
        let status = node.status
        let restoring = node.repository.isRestoring
        let applied = status.repository.applied.seqno.rawValue
        let replication = status.replication
        let offline = replication?.offline != nil
        let fenced = node.repository.isFenced
        let role = leaderLease != nil ? "leader" : fenced ? "fenced" : restoring ? (following == nil ? "restoring" : "standby") : "candidate"
        let replaced = !restoring && claim.map { $0.node != configuration.name } ?? false
        let eligible = !fenced && !offline && !replaced && (!restoring || following != nil)
        published.withLock { $0.role = role }
        return MemberRecord(
            name: configuration.name, http: "\(node.httpAddress)", replication: "\(configuration.node.replicationAddress)", role: role,
            epoch: node.repository.epochHistory.current.epoch.rawValue, appliedSeqno: applied,
            flushedSeqno: Self.electionSeqno(status), eligible: eligible, synchronous: replication?.synchronous != nil,
            state: fenced ? "fenced" : offline ? "offline" : replaced ? "replaced by \(claim!.node)" : replication?.state ?? state)
    }

    private func publishMember() throws(SupervisorFailure) {
        guard let lease = memberLease else { return }
        let record = memberRecord() ?? MemberRecord(
            name: configuration.name, http: "\(configuration.node.httpAddress)", replication: "\(configuration.node.replicationAddress)",
            role: "starting", epoch: 0, appliedSeqno: 0, flushedSeqno: 0, eligible: false, synchronous: false, state: state)
        try etcdCall { () throws(EtcdError) in try etcd.put(keys.member(configuration.name), value: ClusterJSON.encode(record), lease: lease) }
    }
}

/// Why a tick did not complete; the next one tries again.
enum SupervisorFailure: Error, CustomStringConvertible {
    case etcd(EtcdError)
    case cluster(ClusterError)
    case node(NodeError)
    case promotion(RepositoryError)
    case reseed(String)

    var description: String {
        switch self {
        case .etcd(let error): "etcd unavailable: \(error)"
        case .cluster(let error): "\(error)"
        case .node(let error): "the node cannot start: \(error)"
        case .promotion(let error): "role change failed: \(error)"
        case .reseed(let reason): "re-seed failed: \(reason)"
        }
    }
}
