import Dispatch
import Logging
import Replication
import Repository
import Transport
import TransportUV

/// What a node does for replication, decided at start: nothing (no key file), serve standbys (a
/// primary), or follow a primary (a standby, until promoted). A standby started with its own
/// replication address listens there from the start, refusing standbys while it is one (admission
/// refuses any node in restore mode), and switches to serving when promoted.
final class NodeReplication: Sendable {
    private enum Role: Sendable {
        case off
        case serving(StandbyShippers)
        case following(StandbyReplica, serveWhenPromoted: StandbyShippers?)
        case followingArchive(ArchiveFollower)
    }

    private let loop: UVEventLoop
    private let metrics: NodeMetrics
    private let role = Locked(Role.off)

    init(loop: UVEventLoop, metrics: NodeMetrics) {
        self.loop = loop
        self.metrics = metrics
    }

    /// Starts the role the configuration asks for. The repository is open (in restore mode on a standby).
    func start(_ configuration: NodeConfiguration, repository: Repository, key: ReplicationKey?, logger: Logger) throws(NodeError) {
        if let archive = configuration.standbyArchive {
            let follower = ArchiveFollower(source: archive, pollInterval: configuration.archivePollInterval, repository: repository, logger: logger)
            role.withLock { $0 = .followingArchive(follower) }
            return follower.start()
        }
        guard let key else {
            return logger.notice("replication is off: start with --replication-key-file to serve standbys")
        }
        if let primary = configuration.standbyOf {
            let shippers = configuration.standbyServesWhenPromoted
                ? try listen(configuration, repository: repository, key: key, logger: logger) : nil
            do {
                let replica = try StandbyReplica(loop: loop, repository: repository, key: key, primary: primary,
                    startOffline: configuration.standbyStartsOffline, applyDelay: configuration.standbyApplyDelay, logger: logger)
                return role.withLock { $0 = .following(replica, serveWhenPromoted: shippers) }
            } catch {
                if let shippers { close(shippers) }
                throw error
            }
        }
        let shippers = try listen(configuration, repository: repository, key: key, logger: logger)
        role.withLock { $0 = .serving(shippers) }
        logger.info("serving standbys", metadata: ["replication.address": "\(shippers.address.map { "\($0)" } ?? "?")"])
    }

    private func listen(_ configuration: NodeConfiguration, repository: Repository, key: ReplicationKey, logger: Logger) throws(NodeError) -> StandbyShippers {
        let (address, compress, synchronous) = (configuration.replicationAddress, configuration.compressReplication, configuration.synchronous)
        let maxPending = configuration.maxPendingReplicationConnections
        let pins = try Self.synchronousPins(repository, logger: logger)
        let started = loop.executeAndWait { [loop, metrics] () -> Result<StandbyShippers, NodeError> in
            Result { () throws(NodeError) in
                try StandbyShippers(
                    loop: loop, repository: repository, key: key, address: address, compress: compress,
                    maxPending: maxPending, synchronous: synchronous,
                    pins: pins, logger: logger, onFallback: { metrics.recordSynchronousFallback() })
            }
        }
        guard let started else { throw .invalidConfiguration("the event loop stopped before the replication port opened") }
        return try started.get()
    }

    /// The standbys this primary told are required, read here (not on the loop); saved on a queue of
    /// their own, one write at a time.
    private static func synchronousPins(_ repository: Repository, logger: Logger) throws(NodeError) -> SynchronousPins {
        let file = SynchronousPinFile(directory: repository.directory, fileSystem: repository.fileSystem)
        let queue = DispatchQueue(label: "understudy.synchronous-pins")
        return SynchronousPins(initial: try file.load()) { nodes, done in
            queue.async {
                do {
                    try file.save(nodes)
                    done(true)
                } catch {
                    logger.error("cannot write \(file.path)", metadata: ["error": "\(error)"])
                    done(false)
                }
            }
        }
    }

    /// Where standbys connect, when serving them (the real port when 0 was asked for).
    var listeningAddress: SocketAddress? {
        guard let shippers = listener else { return nil }
        return loop.onLoop { shippers.address } ?? nil
    }

    /// The replication port's owner: a primary's, or a standby's that will serve once promoted.
    private var listener: StandbyShippers? {
        switch role.withLock({ $0 }) {
        case .off, .followingArchive: nil
        case .serving(let shippers): shippers
        case .following(_, let shippers): shippers
        }
    }

    /// Adds the replication fields to a node's status: `standbys` on a primary serving them,
    /// `replication` on a standby not yet promoted.
    func describe(into status: inout NodeStatus) {
        switch role.withLock({ $0 }) {
        case .off:
            break
        case .serving(let shippers):
            if let address = loop.onLoop({ shippers.address }) ?? nil { status.replicationAddress = "\(address)" }
            let described = shippers.describe()
            status.standbys = described?.standbys
            status.retention = described?.retention
            status.synchronous = shippers.synchronous.status
        case .following(let replica, let shippers):
            guard status.repository.restoring else { return }
            status.replication = replica.status
            if let shippers, let address = loop.onLoop({ shippers.address }) ?? nil { status.replicationAddress = "\(address)" }
        case .followingArchive(let follower):
            status.warmStandby = follower.status
        }
    }

    /// On a primary serving standbys: what holds commits for synchronous replication. Nil on any
    /// other node (a standby's port, open for after its promotion, holds none before it).
    var synchronous: SynchronousGate? {
        guard case .serving(let shippers) = role.withLock({ $0 }) else { return nil }
        return shippers.synchronous
    }

    /// Promotes a standby. On any other node: completes a promote an error interrupted after its
    /// commit point, says so for a node already promoted (a retried promote after a lost answer
    /// must not fail), and refuses a primary or a manual restore (`StandbyReplica.promoteNonStandby`).
    func promote(_ repository: Repository) throws(RepositoryError) -> PromoteReport {
        if case .following(let replica, let shippers) = role.withLock({ $0 }) {
            var report = try replica.promote()
            // Admission already serves standbys once the repository left restore mode; the role
            // switch makes the status list them as a primary's.
            if let shippers {
                var phase = PhaseTimer()
                role.withLock { $0 = .serving(shippers) }
                replica.stop()
                if report.promoted { report.milliseconds?.stopStandby = phase.lap() }
            }
            return report
        }
        if case .followingArchive(let follower) = role.withLock({ $0 }) { return try follower.promote() }
        return try StandbyReplica.promoteNonStandby(repository)
    }

    /// While this node is a standby: what it follows, for the messages that refuse what a standby
    /// cannot do. Nil on any other node.
    func following(_ repository: Repository) -> String? {
        guard repository.isRestoring else { return nil }
        switch role.withLock({ $0 }) {
        case .following(let replica, _): return "a standby of the primary at \(replica.primary)"
        case .followingArchive(let follower): return "a warm standby fed from the archive \(follower.archive)"
        case .off, .serving: return nil
        }
    }

    /// `POST /admin/standby/offline|online|pause|resume` on a standby; any other node refuses: there is no replication to stop.
    func standby(_ repository: Repository) throws(RepositoryError) -> StandbyReplica {
        if case .following(let replica, _) = role.withLock({ $0 }), repository.isRestoring { return replica }
        throw .notAllowed(
            "not a standby: only a node started with `understudy standby --primary` (and not promoted) can be taken "
                + "offline or online, paused or resumed")
    }

    /// Stops replication before the loop and the repository stop. Not on the loop.
    func stop() {
        switch role.withLock({ $0 }) {
        case .off: break
        case .serving(let shippers): close(shippers)
        case .following(let replica, let shippers):
            replica.stop()
            if let shippers { close(shippers) }
        case .followingArchive(let follower): follower.stop()
        }
    }

    /// Stops accepting standbys on the loop, then waits here for their file work.
    private func close(_ shippers: StandbyShippers) {
        _ = loop.executeAndWait { shippers.close() }
        shippers.waitForFileWork()
    }
}
