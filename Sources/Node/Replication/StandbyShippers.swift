import Dispatch
import Logging
import Replication
import Repository
import Tranlog
import Transport
import TransportUV

/// The primary's replication port: one `LogShipper` per accepted standby connection, dropped when it
/// closes (PostgreSQL's walsenders). Loop-confined; `@unchecked Sendable` only to be carried to the
/// loop. Each durable batch wakes the shippers (`logAdvanced()`) from the writer's flush thread, one
/// loop hop per burst; they ship it from the repository's `recentFrames`, and their 200 ms poll
/// remains the fallback.
final class StandbyShippers: @unchecked Sendable {
    private let loop: UVEventLoop
    private let log: PrimaryLog
    private let key: ReplicationKey
    private let baseCopySource: RepositoryBaseCopySource
    private let logger: Logger
    private var listener: (any Listener)?
    private var shippers: [Int: LogShipper] = [:]
    private var nextShipperID = 0
    private let retention: StandbyRetention
    private var retentionTimer: (any LoopTimer)?
    /// A wake-up is queued on the loop: further durable records until it runs need no other.
    private let wakeQueued = Locked(false)
    private var shipperConfiguration: LogShipper.Configuration
    /// Connections that proved nothing yet, at most; past it the oldest is dropped (`--max-pending-connections`).
    private let maxPending: Int
    /// Refusals of this port, logged once a minute per peer host and kind.
    private let refusals = PeerRefusalLog()
    /// Holds commits' acknowledgements for synchronous replication (asynchronous: releases at once).
    let synchronous: SynchronousGate

    /// Listens on `address` (port 0: any free port); `compress`: ship records batches gzip-compressed
    /// when that makes them smaller (`--compress`); `synchronous`: how many standbys a commit waits
    /// for, `maxPending` how many connections may wait unauthenticated, `pins` where it keeps the
    /// standbys it told are required, `onFallback` counting each fallback to asynchronous. Call on the loop.
    init(
        loop: UVEventLoop, repository: Repository, key: ReplicationKey, address: SocketAddress, compress: Bool, maxPending: Int,
        synchronous settings: SynchronousSettings, pins: SynchronousPins, logger: Logger, onFallback: @escaping @Sendable () -> Void
    ) throws(NodeError) {
        self.loop = loop
        self.maxPending = maxPending
        synchronous = SynchronousGate(
            settings, loop: loop, isFenced: { [repository] in repository.isFenced }, logger: logger, pins: pins, onFallback: onFallback)
        shipperConfiguration = .fromEnvironment
        shipperConfiguration.compressRecords = compress
        self.key = key
        self.logger = logger
        retention = StandbyRetention(repository: repository, logger: logger)
        baseCopySource = RepositoryBaseCopySource(repository: repository, resumeWindow: shipperConfiguration.baseCopyResumeWindow, logger: logger)
        // From memory, never the file: the handshakes run on the loop. The repository's copy is set
        // once the file holding it is durable, so it is as fresh as a read of the file.
        let history: @Sendable () -> EpochHistory = { [repository] in repository.epochHistory }
        var log = PrimaryLog(
            directory: repository.directory.tranlogs, fileSystem: repository.fileSystem, repositoryID: repository.config.repositoryID,
            history: history,
            // The writer's own durable position, else the visible one (durable too on a primary: a
            // commit becomes visible only once synced); never `repository.status`, which waits for a
            // checkpoint in progress.
            durableSeqno: { [recent = repository.recentFrames] in
                max(recent.durableSeqno ?? .zero, repository.snapshot().position.seqno)
            },
            digest: { repository.digest },
            isPrimary: { !repository.isRestoring },
            // fence.json is written off the loop thread, which serves every socket.
            fence: { newer, done in
                DispatchQueue.global(qos: .userInitiated).async {
                    done(Result { () throws(RepositoryError) in try repository.fence(at: newer).state })
                }
            })
        log.standing = { [synchronous] in synchronous.standing(for: $0) }
        log.recentFrames = repository.recentFrames
        self.log = log
        do {
            listener = try loop.listen(host: address.host, port: address.port) { [weak self] in self?.accept($0) }
        } catch {
            throw .invalidConfiguration("cannot listen for standbys on \(address): \(error); choose another --replication HOST:PORT")
        }
        retentionTimer = loop.scheduleTimer(after: .seconds(1), repeating: .seconds(1)) { [weak self] in self?.retention.tick() }
        synchronous.onStandingChanged = { [weak self] nodes in
            self?.shippers.values.filter { $0.status.standby.map { nodes.contains($0.name) } ?? false }.forEach { $0.standingChanged() }
        }
        repository.recentFrames.observe { [weak self] in self?.durableBatch() }
    }

    /// On the writer's flush thread: queues one wake-up of every shipper unless one is already queued.
    private func durableBatch() {
        let queued = wakeQueued.withLock { queued in
            defer { queued = true }
            return queued
        }
        guard !queued else { return }
        loop.execute { [weak self] in
            guard let self else { return }
            // Cleared before waking, so a record made durable while the shippers read is not missed.
            wakeQueued.withLock { $0 = false }
            shippers.values.forEach { $0.logAdvanced() }
        }
    }

    /// The bound address, with the real port when 0 was asked for.
    var address: SocketAddress? { listener?.address }

    /// The connected and known standbys, and the tranlog kept for them and its runway (`standbys` and
    /// `retention` of `GET /status`); nil once the loop stopped. Call off the loop: the tranlog
    /// directory is listed first, on the caller's thread, and only the shippers are read on the loop,
    /// which serves every socket and must not wait for a disk.
    func describe() -> (standbys: [StandbyConnectionStatus], retention: RetentionStatus?)? {
        let retained = try? retention.repository.retention()
        return loop.onLoop { [self] in
            (retention.rows(connected: shippers.values.map(\.status), retention: retained), retention.summary(retained))
        }
    }

    /// Stops accepting; open connections close with the loop. Call on the loop.
    func close() {
        listener?.close()
        listener = nil
        retentionTimer?.cancel()
        retention.tick()
    }

    /// Waits for `standbys.json` writes queued so far (the last positions on disk before the
    /// repository closes). Never on the loop, which must not wait for a disk.
    func waitForFileWork() {
        precondition(!loop.inEventLoop, "waiting for file work would block the loop thread")
        retention.drain()
    }

    private func accept(_ connection: any Connection) {
        let id = nextShipperID
        nextShipperID += 1
        let shipper = LogShipper(
            connection: connection, loop: loop, log: log, key: key, configuration: shipperConfiguration, baseCopySource: baseCopySource, logger: logger,
            refusals: refusals
        ) { [weak self] status in
            // A peer that never authenticated was no standby: its refusal was logged, rate-limited.
            let wasStandby = self?.shippers[id]?.isAuthenticated ?? false
            self?.shippers[id] = nil
            self?.synchronous.disconnected(id)
            if wasStandby { self?.logger.info("standby disconnected", metadata: ["peer": "\(status.peer)", "state": "\(status.state)"]) }
        } onProgress: { [weak self] status in
            self?.retention.progressed(status)
            self?.synchronous.progressed(id, status)
        }
        shippers[id] = shipper
        shipper.start()
        dropOldestPending()
    }

    /// Past `maxPending` unauthenticated connections the oldest goes: a flood of connections that
    /// send nothing (or slowly) holds at most `maxPending` of them, each with at most one small
    /// message buffered, while a real standby's fresh connection still gets its turn.
    private func dropOldestPending() {
        let pending = shippers.filter { $0.value.isPending }
        guard pending.count > maxPending, let oldest = pending.keys.min() else { return }
        shippers[oldest]?.dropPending("the oldest of more than \(maxPending) connections waiting to authenticate (--max-pending-connections)")
    }
}
