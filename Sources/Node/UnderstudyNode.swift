import Logging
import Replication
import Repository
import Tranlog
import Transport
import TransportUV

/// A node, whatever its role (docs/ROLES.md): one repository, served over HTTP from one libuv loop
/// thread; a primary (serving standbys on its replication port when given a key file) or, with
/// `configuration.standbyOf`, a standby following a primary in restore mode until promoted
/// (`POST /admin/promote`).
///
/// Reads and request parsing run on the loop thread; a commit is handed to the repository and answered
/// from the tranlog's completion thread once durable; checkpoints run on a dispatch queue. `stop()` closes
/// the HTTP port, then the loop, then the repository (final checkpoint and shutdown record).
public final class UnderstudyNode: Sendable {
    public let configuration: NodeConfiguration
    public let repository: Repository
    private let logger: Logger
    private let loop: UVEventLoop
    private let tls: TLSContext?
    private let reporter: StatusReporter
    private let metrics: NodeMetrics
    private let adminToken: [UInt8]
    private let replication: NodeReplication
    private let archive: ArchiveService?
    private let server = Locked<LoopConfinedServer?>(nil)
    private let stopped = Locked(false)

    /// Opens (recovers) the repository and starts serving HTTP. On failure nothing is left running.
    public init(configuration: NodeConfiguration, logger: Logger) throws(NodeError) {
        if let problem = configuration.validate() { throw .invalidConfiguration(problem) }
        var configuration = configuration
        self.logger = logger
        // Read before anything opens: a bad key file leaves nothing to undo.
        try SecretFileMode.checkKeyFiles(configuration)
        let key = try ReplicationKeyFile.read(configuration.replicationKeyFiles)
        tls = try Self.loadTLS(configuration.tls, logger: logger)
        let baseCopy = try Self.copyBaseIfNeeded(&configuration, key: key, tls: tls, logger: logger)
        try SecretFileMode.checkAdminToken(configuration)
        self.configuration = configuration
        if configuration.standbyOf != nil || configuration.standbyArchive != nil {
            try Self.enterStandbyMode(
                configuration.dataDirectory, sourceID: configuration.standbySourceID, fileSystem: configuration.fileSystem, logger: logger)
        }
        let repository: Repository
        do {
            var repositoryConfiguration = configuration.repository
            repositoryConfiguration.flushPoll = configuration.busyPoll
            repository = try Repository(
                directory: configuration.dataDirectory, configuration: repositoryConfiguration, fileSystem: configuration.fileSystem,
                logger: logger)
        } catch {
            throw .repository(error)
        }
        self.repository = repository
        if !repository.isRestoring { Self.removeStandbyLeftover(repository, logger: logger) }
        metrics = NodeMetrics(initial: repository.status)
        do { adminToken = Array(try AdminToken.read(configuration.dataDirectory, fileSystem: configuration.fileSystem).utf8) } catch {
            Self.abandon(repository, logger: logger)
            throw .repository(error)
        }
        var transport = TransportConfiguration()
        transport.pollBudget = configuration.busyPoll
        do { loop = try UVEventLoop(configuration: transport, tls: tls, threadName: "node-loop", logger: logger) } catch {
            Self.abandon(repository, logger: logger)
            throw .http(error)
        }
        // First on the loop, before any socket's work: from here on the tests stop at a file touched on it.
        loop.execute { LoopThreadFiles.forbid(onThisThread: "node-loop") }
        replication = NodeReplication(loop: loop, metrics: metrics)
        do {
            archive = try configuration.archiveDestination.map { [interval = configuration.archiveInterval, metrics] destination throws(NodeError) in
                try ArchiveService(destination: destination, interval: interval, repository: repository, metrics: metrics, logger: logger)
            }
        } catch {
            loop.shutdown()
            Self.abandon(repository, logger: logger)
            throw error
        }
        reporter = StatusReporter(repository: repository, httpAddress: configuration.httpAddress, replication: replication, archive: archive,
                                  baseCopy: baseCopy, cluster: configuration.cluster)
        do {
            try startHTTP()
        } catch {
            loop.shutdown()
            Self.abandon(repository, logger: logger)
            throw .http(error)
        }
        do {
            try replication.start(configuration, repository: repository, key: key, logger: logger)
        } catch {
            stopServing()
            Self.abandon(repository, logger: logger)
            throw error
        }
        archive?.start()
        logger.info("node ready", metadata: [
            "role": "\(status.role)", "http.address": "\(httpAddress)", "repository.id": "\(repository.config.repositoryID)",
            "seqno": "\(repository.status.applied.seqno)",
        ])
    }

    /// Reads the TLS files again (on the caller's thread, never the loop's): new connections use them,
    /// open ones keep theirs. On failure the node keeps serving with the certificate it had, and the
    /// error names the file. For SIGHUP.
    public func reloadTLS() throws(NodeError) {
        guard let tls else {
            logger.info("no TLS certificate to reload: the node runs without --tls-cert")
            return
        }
        do { try tls.reload() } catch { throw .invalidConfiguration(error.description) }
        logger.notice("TLS certificates reloaded; new connections use them", metadata: ["tls.certificate": "\(tls.certificateSummary ?? "none")"])
    }

    private static func loadTLS(_ configuration: TLSConfiguration?, logger: Logger) throws(NodeError) -> TLSContext? {
        guard let configuration else { return nil }
        let context: TLSContext
        do { context = try TLSContext(configuration) } catch { throw .invalidConfiguration(error.description) }
        logger.info("TLS 1.3 on the HTTP and replication ports", metadata: [
            "tls.certificate": "\(context.certificateSummary ?? "none")",
            "tls.clientCertificates": "\(configuration.caFile == nil ? "not asked for" : "required, signed by \(configuration.caFile!)")",
        ])
        return context
    }

    /// Where the HTTP API listens, with the real port when 0 was asked for.
    public var httpAddress: SocketAddress { reporter.httpAddress }

    public var status: NodeStatus { reporter.status }

    /// Where standbys connect, with the real port when 0 was asked for; nil when not serving them.
    public var replicationAddress: SocketAddress? { replication.listeningAddress }

    /// The replica of a standby following a primary; for tests that hold its apply back.
    func standbyReplica() throws(RepositoryError) -> StandbyReplica { try replication.standby(repository) }

    /// Promotes this standby (`POST /admin/promote` does the same): its single durable commit point is
    /// the repository's commitRestore. Off the loop thread.
    public func promote() throws(RepositoryError) -> PromoteReport {
        try replication.promote(repository)
    }

    /// Graceful stop: no new connections or requests, then the repository's final checkpoint and
    /// shutdown record. Answers still pending are dropped. Calling it again does nothing.
    public func stop() throws(NodeError) {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        replication.stop()
        archive?.stop()
        stopServing()
        do { try repository.close() } catch { throw .repository(error) }
        logger.info("node stopped", metadata: ["seqno": "\(repository.status.applied.seqno)"])
    }

    /// Closes the HTTP port, then the loop (and with it every connection).
    private func stopServing() {
        if let server = server.withLock({ $0 }) {
            _ = loop.executeAndWait { server.server.close() }
        }
        loop.shutdown()
    }

    /// A standby runs in restore mode, on a copy of its primary's repository (made by the base copy
    /// when its directory was empty). It gets its own source id first (see `Repository.ensureOwnSourceID`).
    private static func enterStandbyMode(
        _ directory: DataDirectory, sourceID: SourceID?, fileSystem: any TranlogFileSystem, logger: Logger
    ) throws(NodeError) {
        do { _ = try directory.readConfig(fileSystem: fileSystem) } catch {
            throw .invalidConfiguration(
                "\(directory.root) holds no repository (\(error)): a standby starts from a copy of its primary's, "
                    + "made with `understudy backup snapshot` (or a `cp -a` of the stopped primary's data directory)")
        }
        try refuseIfPromoted(directory, fileSystem: fileSystem)
        do {
            let own = try Repository.ensureOwnSourceID(directory, requested: sourceID, fileSystem: fileSystem)
            if own.changed { logger.notice("this standby's source id is now \(own.sourceID) (understudy.json); promoted, it writes records under it") }
            try Repository.enterRestoreMode(directory, fileSystem: fileSystem)
        } catch {
            throw .repository(error)
        }
    }

    /// A directory that opened its own epoch is a primary: a standby command line (a service manager
    /// restarting a promoted node, say) must not turn it back into a standby of the node it replaced.
    private static func refuseIfPromoted(_ directory: DataDirectory, fileSystem: any TranlogFileSystem) throws(NodeError) {
        let promotion: EpochCommit?
        do { promotion = try Repository.promotion(of: directory, fileSystem: fileSystem) } catch { throw .repository(error) }
        guard let promotion else { return }
        throw .invalidConfiguration(
            "\(directory.root) is a primary: `\(promotion.by)` at \(promotion.time.iso8601) opened epoch \(promotion.epoch) at seqno "
                + "\(promotion.seqno) (recorded in \(directory.restoreStateFile.string)). Start it with `understudy start` (systemd: "
                + "disable understudy-standby, enable understudy-primary); that also completes a promote a crash interrupted. To make "
                + "it follow a primary anyway (a copy meant for a new standby, or a demoted node rejoining: refused as forked if it "
                + "committed past the fork), delete that file first")
    }

    private func startHTTP() throws(TransportError) {
        let router = makeRouter()
        let started = loop.executeAndWait { [loop, configuration, logger] () -> Result<LoopConfinedServer, TransportError> in
            Result { () throws(TransportError) in
                LoopConfinedServer(try HTTPServer(
                    eventLoop: loop, configuration: configuration.http, logger: logger,
                    handler: { router.handle($0, $1) }))
            }
        }
        guard let started else {
            throw TransportError(operation: .listen, code: "ESHUTDOWN", message: "the event loop stopped before the HTTP server started")
        }
        let running = try started.get()
        reporter.bound(to: running.address)
        server.withLock { $0 = running }
    }

    private func makeRouter() -> Router {
        let following: @Sendable () -> String? = { [replication, repository] in replication.following(repository) }
        let committer = Committer(
            repository: repository, metrics: metrics, following: following, synchronous: { [replication] in replication.synchronous },
            cluster: configuration.cluster)
        let admin = AdminRoutes(repository: repository, token: adminToken, following: following)
        let routes = ObjectRoutes(repository: repository, committer: committer).routes
            + CommitRoutes(committer: committer).routes
            + StatusRoutes(repository: repository, metrics: metrics, status: { [reporter] in reporter.status }).routes
            + admin.routes
            + PromoteRoutes(admin: admin, promote: { [replication, repository] () throws(RepositoryError) in try replication.promote(repository) }).routes
            + StandbyRoutes(admin: admin, standby: { [replication, repository] () throws(RepositoryError) in try replication.standby(repository) }).routes
            + SynchronousRoutes(admin: admin, gate: { [replication] in replication.synchronous }).routes
            + TranlogRoutes(repository: repository).routes
        return Router(routes: routes, metrics: metrics)
    }

    /// A primary whose promote was cut short after its commit point still holds the standby's offline
    /// and pause state: the promote's last step is done here. Failing, it is only reported: nothing
    /// in a primary reads that file.
    private static func removeStandbyLeftover(_ repository: Repository, logger: Logger) {
        do {
            if try StandbyControlStore.removeLeftover(in: repository.directory, fileSystem: repository.fileSystem) {
                logger.notice("removed the standby state a promote left behind (\(repository.directory.standbyControlFile)): this node is a primary")
            }
        } catch {
            logger.warning("could not remove \(repository.directory.standbyControlFile), left by a standby this node was: \(error)")
        }
    }

    /// Start-up failed after the repository opened: close it so its lock and files are left clean.
    private static func abandon(_ repository: Repository, logger: Logger) {
        do { try repository.close() } catch {
            logger.error("closing the repository after a failed start failed", metadata: ["error": "\(error)"])
        }
    }
}

/// The HTTP server, carried across threads only to be used on its loop (it is loop-confined).
private final class LoopConfinedServer: @unchecked Sendable {
    let server: HTTPServer
    /// Read once on the loop thread at start; immutable afterwards.
    let address: SocketAddress

    init(_ server: HTTPServer) {
        self.server = server
        address = server.address
    }
}
