import Logging
import Repository
import SystemPackage
import Tranlog
import Transport

/// The standby's side of replication (PostgreSQL's walreceiver): connects to the primary, proves it
/// holds the key, then validates every file header and frame it is sent and writes them
/// byte-identically into its own tranlog directory, syncing once per read and acknowledging. The
/// node's continuous restore applies from those files; `onFlushed` tells it how far they are durable.
///
/// Loop-confined. Any failure (refused data, a reject, a lost connection) closes the connection and
/// reconnects after a backoff that doubles up to a cap; the hello then names the mirror's last
/// record, so streaming resumes at exactly the next seqno. A failed write or sync of the mirror is
/// fatal: the receiver stops (`State.failed`).
///
/// `@unchecked Sendable` only so other threads (the node's apply thread) can hand it work through
/// `loop.execute`; every entry point checks that it runs on the loop.
public final class LogReceiver: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var primaryHost: String
        public var primaryPort: Int
        public var repositoryID: RepositoryID
        public var sourceID: SourceID
        /// The primary's heartbeat interval: lag is re-evaluated and an ack sent this often.
        public var heartbeatInterval: Duration = .seconds(1)
        /// Heartbeat intervals without a word from the primary before the state is `stalled`. Default 3.
        public var stalledAfterIntervals = 3
        /// Heartbeat intervals without a word from the primary before the connection is dropped and
        /// made again: a half-open connection (the primary's host vanished in a partition) never
        /// closes by itself. Default 15 (PostgreSQL's wal_receiver_timeout is 60 s).
        public var timeoutIntervals = 15
        /// Reconnect backoff: doubles from the first delay up to the cap. Defaults 100 ms and 30 s.
        public var reconnectInitialDelay: Duration = .milliseconds(100)
        public var reconnectMaxDelay: Duration = .seconds(30)
        public var maxMessageBytes = ReplicationProtocol.maxMessageBytes

        public init(primaryHost: String, primaryPort: Int, repositoryID: RepositoryID, sourceID: SourceID) {
            self.primaryHost = primaryHost
            self.primaryPort = primaryPort
            self.repositoryID = repositoryID
            self.sourceID = sourceID
        }
    }

    public enum State: Sendable, Equatable {
        case stopped
        case connecting
        case awaitingChallenge
        case awaitingWelcome
        case streaming
        case waitingToReconnect
        case failed(String)
    }

    public private(set) var state = State.stopped
    /// The last reject the primary sent, kept until a welcome.
    public private(set) var lastRejection: RejectReason?
    /// Connections lost or refused since the last welcome (drives the backoff).
    public private(set) var consecutiveFailures = 0
    public private(set) var flushedSeqno: Seqno
    public var receivedSeqno: Seqno { validator.lastSeqno }
    public var lag: ReplicationLag { lagTracker.lag }
    public var progress: ApplyProgress { progressTracker.progress(lag: lagTracker.lag) }

    private let loop: any EventLoop
    private let key: ReplicationKey
    private let configuration: Configuration
    private let history: () -> EpochHistory
    private let onFlushed: (Seqno) -> Void
    private let onFault: (ReceiverFault) -> Void
    private var logger: Logger
    private let mirror: MirrorLogWriter
    private var validator: StreamValidator
    private var lagTracker: LagTracker
    private var progressTracker: ApplyProgressTracker
    private var appliedSeqno = Seqno.zero
    private var connection: (any Connection)?
    private var decoder: MessageDecoder
    private var tickTimer: (any LoopTimer)?
    private var reconnectTimer: (any LoopTimer)?
    /// Heartbeat intervals since the primary last said anything on the current connection.
    private var silentIntervals = 0

    /// Opens the mirror in `directory` (cutting off a torn tail). An empty mirror starts after
    /// `restoredTo`, the position the standby's data was restored to (a backup's applied position).
    /// `onFault` hears of a failed mirror and of a refusal that needs an operator, on the loop.
    public init(
        loop: any EventLoop, directory: FilePath, fileSystem: any TranlogFileSystem, key: ReplicationKey,
        configuration: Configuration, history: @escaping () -> EpochHistory, restoredTo: AppliedPosition = .empty,
        logger: Logger, onFlushed: @escaping (Seqno) -> Void = { _ in }, onFault: @escaping (ReceiverFault) -> Void = { _ in }
    ) throws(TranlogError) {
        self.loop = loop
        self.key = key
        self.configuration = configuration
        self.history = history
        self.onFlushed = onFlushed
        self.onFault = onFault
        self.logger = logger
        self.logger[metadataKey: "replication.peer"] = "\(configuration.primaryHost):\(configuration.primaryPort)"
        (mirror, validator) = try MirrorLogWriter.open(
            directory: directory, fileSystem: fileSystem, repositoryID: configuration.repositoryID,
            emptyPosition: (restoredTo.seqno, restoredTo.recordCRC ?? 0), logger: logger)
        flushedSeqno = validator.lastSeqno
        lagTracker = LagTracker(stalledAfterTicks: configuration.stalledAfterIntervals, mirrorEnd: validator.lastSeqno, time: validator.lastTime)
        progressTracker = ApplyProgressTracker(tickInterval: configuration.heartbeatInterval)
        decoder = MessageDecoder(maxMessageBytes: configuration.maxMessageBytes)
    }

    public func start() {
        precondition(loop.inEventLoop, "LogReceiver is loop-confined")
        guard state == .stopped else { return }
        tickTimer = loop.scheduleTimer(after: configuration.heartbeatInterval, repeating: configuration.heartbeatInterval) {
            [weak self] in self?.tick()
        }
        connect()
    }

    /// Disconnects and stays disconnected until `start()`. A failed receiver stays failed: its mirror
    /// must be reopened (a new receiver) after the operator fixed the disk.
    public func stop() {
        precondition(loop.inEventLoop, "LogReceiver is loop-confined")
        if case .failed = state {} else { state = .stopped }
        stopTimers()
        connection?.close(.local("receiver stopped"))
    }

    /// The node's restore applied records through `seqno` (committed at `time`); the primary hears of
    /// it with the next ack.
    public func applied(through seqno: Seqno, time: Timestamp?) {
        precondition(loop.inEventLoop, "LogReceiver is loop-confined")
        appliedSeqno = seqno
        lagTracker.applied(through: seqno, time: time)
        progressTracker.applied(through: seqno)
    }

    // MARK: - Connecting

    private func connect() {
        state = .connecting
        loop.connect(host: configuration.primaryHost, port: configuration.primaryPort) { [weak self] result in
            guard let self, self.state == .connecting else {
                if case .success(let connection) = result { connection.close(.local("receiver stopped")) }
                return
            }
            switch result {
            case .success(let connection): self.connected(connection)
            case .failure(let error): self.lost("cannot connect: \(error)")
            }
        }
    }

    private func connected(_ connection: any Connection) {
        self.connection = connection
        silentIntervals = 0
        decoder = MessageDecoder(maxMessageBytes: configuration.maxMessageBytes)
        state = .awaitingChallenge
        connection.start(ConnectionCallbacks(onRead: { self.received($0) }, onClose: { self.closed($0) }))
    }

    private func closed(_ reason: CloseReason) {
        connection = nil
        lagTracker.disconnected()
        lost("connection closed: \(reason)")
    }

    /// Schedules the next attempt, unless stopped or failed.
    private func lost(_ why: String) {
        guard state != .stopped, state != .waitingToReconnect else { return }
        if case .failed = state { return }
        let delay = min(configuration.reconnectInitialDelay * (1 << min(consecutiveFailures, 30)), configuration.reconnectMaxDelay)
        consecutiveFailures += 1
        logger.warning("replication interrupted (\(why)); reconnecting in \(delay)")
        state = .waitingToReconnect
        reconnectTimer = loop.scheduleTimer(after: delay) { [weak self] in
            guard let self, self.state == .waitingToReconnect else { return }
            self.connect()
        }
    }

    private func fail(_ reason: String) {
        logger.error("receiver stopped: \(reason)")
        state = .failed(reason)
        stopTimers()
        connection?.close(.local(reason))
        onFault(.mirrorWrite(reason))
    }

    private func stopTimers() {
        tickTimer?.cancel()
        reconnectTimer?.cancel()
    }

    private func tick() {
        lagTracker.tick()
        if let connection {
            silentIntervals += 1
            if silentIntervals >= configuration.timeoutIntervals {
                let reason = "no word from the primary for \(silentIntervals) heartbeat intervals (replication timeout); reconnecting"
                logger.warning("closing replication connection: \(reason)")
                return connection.close(.local(reason))
            }
        }
        progressTracker.tick(lag: lagTracker.lag)
        if state == .streaming { sendAck() }
    }

    // MARK: - Receiving

    private func received(_ bytes: [UInt8]) {
        silentIntervals = 0
        decoder.feed(bytes)
        var refusal: String?
        do throws(ReceiveFailure) {
            do throws(ReceiveFailure) {
                while connection?.isOpen == true, let message = try nextMessage() {
                    lagTracker.heardFromPrimary()
                    try handle(message)
                }
            } catch .refused(let reason) {
                refusal = reason
            }
            // What was accepted before a refused message stays: make it durable and acknowledge it.
            try flushReceived()
        } catch {
            fail("the mirror cannot be written: \(error)")
            return
        }
        if let refusal {
            logger.error("closing replication connection: \(refusal)")
            connection?.close(.local(refusal))
        }
    }

    private func nextMessage() throws(ReceiveFailure) -> ReplicationMessage? {
        do {
            return try decoder.next()
        } catch {
            throw .refused("protocol violation: \(error)")
        }
    }

    private func handle(_ message: ReplicationMessage) throws(ReceiveFailure) {
        switch (state, message) {
        case (.awaitingChallenge, .challenge(let challenge)):
            sendHello(challenge: challenge)
        case (.awaitingWelcome, .welcome(let welcome)):
            try welcomed(welcome)
        case (.awaitingWelcome, .reject(let reason)):
            lastRejection = reason
            if reason.needsOperator { onFault(.rejected(reason)) }
            throw .refused("the primary refused this standby: \(reason)")
        case (.streaming, .fileStart(let bytes)):
            try startFile(bytes)
        case (.streaming, .records(let batch)):
            try write(batch)
        case (.streaming, .heartbeat(let heartbeat)):
            lagTracker.heartbeat(heartbeat)
        default:
            throw .refused("protocol violation: \(ProtocolViolation.unexpected(message.type, state: "\(state)"))")
        }
    }

    private func sendHello(challenge: [UInt8]) {
        let position = LogPosition(epoch: validator.lastEpoch ?? validator.file?.epoch ?? history().current.epoch, seqno: validator.lastSeqno)
        let mirrorEnd = validator.file.map { EventID(fileID: $0.fileID, offset: validator.fileSize) }
        let hello = Hello(
            repositoryID: configuration.repositoryID, sourceID: configuration.sourceID, position: position,
            recordCRC: validator.lastCRC, mirrorEnd: mirrorEnd, history: history())
        send(.hello(HelloProof.sign(hello, challenge: challenge, key: key)))
        state = .awaitingWelcome
    }

    private func welcomed(_ welcome: Welcome) throws(ReceiveFailure) {
        guard welcome.repositoryID == configuration.repositoryID else {
            throw .refused("the primary serves repository \(welcome.repositoryID), not \(configuration.repositoryID)")
        }
        // A primary whose history ends before an epoch this standby has seen is an old one that has not
        // learned of it (fencing refuses such standbys itself): shown in status like a primary's reject.
        let seen = max(history().current.epoch, validator.lastEpoch ?? .none)
        guard welcome.history.current.epoch >= seen else {
            let reason = RejectReason.fenced(detail: "its history ends in epoch \(welcome.history.current.epoch), older than epoch \(seen) this standby has seen")
            lastRejection = reason
            throw .refused("refusing the primary: \(reason)")
        }
        logger.info("primary at seqno \(welcome.position.seqno) welcomed this standby at seqno \(validator.lastSeqno)")
        state = .streaming
        lastRejection = nil
        consecutiveFailures = 0
        lagTracker.welcomed(primaryLastSeqno: welcome.position.seqno)
    }

    private func startFile(_ bytes: [UInt8]) throws(ReceiveFailure) {
        switch validator.acceptFileStart(bytes) {
        case .failure(let violation): throw .refused(violation.description)
        case .success(let header):
            do { try mirror.startFile(header, bytes: bytes) } catch { throw .mirror(error) }
        }
    }

    private func write(_ batch: RecordBatch) throws(ReceiveFailure) {
        switch validator.acceptRecords(batch) {
        case .failure(let violation): throw .refused(violation.description)
        case .success(let records):
            do { try mirror.append(batch.frames) } catch { throw .mirror(error) }
            lagTracker.received(through: validator.lastSeqno, time: records.last?.header.time, bytes: batch.frames.count)
            progressTracker.received(through: validator.lastSeqno, bytes: batch.frames.count)
        }
    }

    /// Makes everything received durable with one sync, then tells the node and the primary.
    private func flushReceived() throws(ReceiveFailure) {
        guard validator.lastSeqno > flushedSeqno else { return }
        do { try mirror.sync() } catch { throw .mirror(error) }
        flushedSeqno = validator.lastSeqno
        lagTracker.flushed(through: flushedSeqno, time: validator.lastTime)
        onFlushed(flushedSeqno)
        if state == .streaming { sendAck() }
    }

    private func sendAck() {
        send(.ack(Ack(received: validator.lastSeqno, flushed: flushedSeqno, applied: appliedSeqno)))
    }

    private func send(_ message: ReplicationMessage) {
        _ = connection?.write(MessageCodec.encode(message))
    }
}

/// Why a read of the primary's stream stops: a refused message (the connection is closed and
/// replication resumes after a backoff) or a failed mirror write (fatal).
private enum ReceiveFailure: Error, CustomStringConvertible {
    case refused(String)
    case mirror(TranlogError)

    var description: String {
        switch self {
        case .refused(let reason): reason
        case .mirror(let error): error.description
        }
    }
}
