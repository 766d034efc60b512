import Logging
import Repository
import SystemPackage
import Tranlog
import Transport

/// The standby's side of replication (PostgreSQL's walreceiver): connects to the primary, proves it
/// holds the key, then hands every file header and batch of frames it is sent to its mirror writer
/// (`MirrorWriterStage`, a thread of its own), which checks them against the chain, writes them
/// byte-identically into the standby's own tranlog directory and syncs once per drained queue; the
/// loop acknowledges what the writer reports synced. The writer hands the synced frames to the
/// node's applier in memory (`onMirrored`); `onFlushed` tells the node how far they are durable.
/// The loop does socket work only.
///
/// Loop-confined. Any failure (refused data, a reject, a peer that is no replication port, a lost
/// connection) closes the connection and reconnects after a backoff that doubles up to a cap; the
/// backoff starts over only once a connection carried the stream, so a standby refused right after
/// the welcome does not spin. The hello names the mirror's last record, so streaming resumes at
/// exactly the next seqno. A refusal is kept as `refusal` and logged once, then at most once per
/// `refusalLogInterval`. A failed write or sync of the mirror stops the receiver (`State.failed`)
/// until the mirror is reopened (`reopenMirror()`, `resume(with:)`).
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
        /// A primary sends its challenge as soon as it accepts: a peer silent this long is probed,
        /// and one still silent after as long again is not a replication port. Default 2 s.
        public var challengeTimeout: Duration = .seconds(2)
        /// The same refusal is logged at most this often. Default 60 s.
        public var refusalLogInterval: Duration = .seconds(60)
        public var maxMessageBytes = ReplicationProtocol.maxMessageBytes
        /// The mirror writer drains on a thread of its own (true, a node), or as work on the loop
        /// (false: tests on the fake loop, whose thread is the test's, so that runs are deterministic).
        public var writesMirrorOnItsOwnThread = true
        /// Lag estimates and log rate limits read it; tests inject the fake loop's.
        public var clock = ReplicationClock.system

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

    /// Why connections keep failing in a way that needs someone to act: the primary's reject, a
    /// refused stream, a peer that is no replication port.
    public struct Refusal: Sendable, Equatable {
        public var message: String
        /// When this same refusal first came (the wall clock), and how many times in a row since.
        public var since: Timestamp
        public var count: Int
    }

    public private(set) var state = State.stopped
    /// The last reject the primary sent, kept until a welcome.
    public private(set) var lastRejection: RejectReason?
    /// The last refusal, kept until a connection carries the stream again.
    public private(set) var refusal: Refusal?
    /// Connections lost or refused since the last welcome (drives the backoff).
    public private(set) var consecutiveFailures = 0
    public private(set) var flushedSeqno: Seqno
    /// What the primary said of this standby's synchronous standing in the current or last
    /// conversation (replaced by each welcome: a new conversation says it anew).
    public private(set) var standing = SynchronousStanding.notRequired
    /// The challenge of the hello sent on this connection, which the welcome must sign.
    private var helloChallenge: [UInt8] = []
    /// The positions this standby last reported to its primary.
    public private(set) var lastAck = Ack(received: .zero, flushed: .zero, applied: .zero)
    public var receivedSeqno: Seqno { view.lastSeqno }
    public var lag: ReplicationLag { lagTracker.lag }
    public var progress: ApplyProgress { progressTracker.progress(lag: lagTracker.lag) }

    private let loop: any EventLoop
    private let key: ReplicationKey
    private let configuration: Configuration
    private let history: () -> EpochHistory
    private let onFault: (ReceiverFault) -> Void
    private let onHeartbeat: (Heartbeat) -> Void
    private var logger: Logger
    private let mirrorLocation: MirrorLocation
    private var stage: MirrorWriterStage!
    /// The mirror's end as of the writer's last report, and how many reports came.
    private var view: MirrorView
    private var reportsAbsorbed = 0
    /// Numbers connections, so that the writer's refusal of one closes that one only.
    private var connectionNumber = 0
    /// A challenge that came while the writer still had work: the hello must name the mirror's end.
    private var pendingChallenge: [UInt8]?
    private var lagTracker: LagTracker
    private var progressTracker: ApplyProgressTracker
    private var appliedSeqno = Seqno.zero
    private var connection: (any Connection)?
    private var decoder: MessageDecoder
    private var tickTimer: (any LoopTimer)?
    private var reconnectTimer: (any LoopTimer)?
    /// Set from the connect until the challenge: tells a primary from another service.
    private var peerCheck: PeerCheck?
    private var refusalLog: RepeatedMessageLimiter
    /// The current connection's close was our refusal, already logged (rate-limited).
    private var closingAfterRefusal = false
    /// The current connection carried the stream past the welcome (see `provedStream()`).
    private var streamProved = false
    /// Heartbeat intervals since the primary last said anything on the current connection.
    private var silentIntervals = 0

    /// Opens the mirror in `directory` (cutting off a torn tail). An empty mirror starts after
    /// `restoredTo`, the position the standby's data was restored to (a backup's applied position).
    /// `onFault` hears of a failed mirror and of a refusal that needs an operator, on the loop;
    /// `onHeartbeat` of every heartbeat (the primary's digest to check the applied content against);
    /// `beforeSync` (on the mirror writer's thread) of the frames each drain wrote, before it syncs them;
    /// `onMirrored` (on the same thread) of the frames each drain synced; `onFlushed`, on the
    /// same thread right after, of how far the mirror is durable (`MirrorWriterStage`).
    public init(
        loop: any EventLoop, directory: FilePath, fileSystem: any TranlogFileSystem, key: ReplicationKey,
        configuration: Configuration, history: @escaping () -> EpochHistory, restoredTo: AppliedPosition = .empty,
        logger: Logger, onFlushed: @escaping (Seqno) -> Void = { _ in }, onFault: @escaping (ReceiverFault) -> Void = { _ in },
        onHeartbeat: @escaping (Heartbeat) -> Void = { _ in }, beforeSync: @escaping ([MirroredFrames]) -> Void = { _ in },
        onMirrored: @escaping @Sendable ([MirroredFrames]) -> Void = { _ in }
    ) throws(TranlogError) {
        self.loop = loop
        self.key = key
        self.configuration = configuration
        self.history = history
        self.onFault = onFault
        self.onHeartbeat = onHeartbeat
        self.logger = logger
        self.logger[metadataKey: "replication.peer"] = "\(configuration.primaryHost):\(configuration.primaryPort)"
        mirrorLocation = MirrorLocation(
            directory: directory, fileSystem: fileSystem, repositoryID: configuration.repositoryID,
            emptyPosition: (restoredTo.seqno, restoredTo.recordCRC ?? 0))
        let (mirror, validator) = try mirrorLocation.open(logger: logger)
        view = MirrorView(validator)
        flushedSeqno = validator.lastSeqno
        lagTracker = LagTracker(stalledAfterTicks: configuration.stalledAfterIntervals, mirrorEnd: validator.lastSeqno, time: validator.lastTime,
            clock: configuration.clock)
        progressTracker = ApplyProgressTracker(tickInterval: configuration.heartbeatInterval, appliedFrom: restoredTo.seqno)
        decoder = MessageDecoder(maxMessageBytes: configuration.maxMessageBytes)
        refusalLog = RepeatedMessageLimiter(interval: configuration.refusalLogInterval)
        stage = MirrorWriterStage(
            writer: mirror, validator: validator, loop: loop, mode: configuration.writesMirrorOnItsOwnThread ? .thread : .onLoop,
            report: { [weak self] in self?.absorb($0) }, beforeSync: beforeSync, onMirrored: onMirrored, onFlushed: onFlushed)
    }

    deinit { stage.close() }

    public func start() {
        precondition(loop.inEventLoop, "LogReceiver is loop-confined")
        guard state == .stopped else { return }
        tickTimer = loop.scheduleTimer(after: configuration.heartbeatInterval, repeating: configuration.heartbeatInterval) {
            [weak self] in self?.tick()
        }
        connect()
    }

    /// Disconnects and stays disconnected until `start()`. A failed receiver stays failed until its
    /// mirror is reopened (`reopenMirror()`, `resume(with:)`) after the operator fixed the disk.
    public func stop() {
        precondition(loop.inEventLoop, "LogReceiver is loop-confined")
        if case .failed = state {} else { state = .stopped }
        stage.discardQueued()
        stopTimers()
        connection?.close(.local("receiver stopped"))
    }

    /// The node's restore applied records through `seqno` (committed at `time`); the primary hears of
    /// it at once (applies are coalesced, so at most one ack per flush): it measures the standby's
    /// applied lag from acks, and commits waiting for level `applied` on a synchronous primary wait
    /// for this ack (one per apply run, which covers every record flushed before it started).
    public func applied(through seqno: Seqno, time: Timestamp?) {
        precondition(loop.inEventLoop, "LogReceiver is loop-confined")
        let advanced = seqno > appliedSeqno
        appliedSeqno = seqno
        lagTracker.applied(through: seqno, time: time)
        progressTracker.applied(through: seqno)
        if advanced && state == .streaming { sendAck() }
    }

    /// Any thread: the mirror's end as of the moment the writer's last sync returned (`flushedSeqno`,
    /// on the loop, follows it a report later).
    public var syncedSeqno: Seqno { stage.syncedSeqno }

    /// Off the loop, after `stop()`: waits until the mirror writer is idle, so nothing is written
    /// into the mirror from then on (a promotion appends to the same directory).
    public func waitForMirrorWriter() {
        stage.waitUntilIdle()
    }

    /// Off the loop, after `stop()`: waits as `waitForMirrorWriter` does, then cuts the zero tail
    /// the mirror writer keeps ahead of its data (a promotion writes the next file, and only the
    /// newest may have one). Nothing to do on a failed mirror, which a promotion reads as it is.
    public func finishMirror() throws(TranlogError) {
        try stage.withIdleWriter { writer throws(TranlogError) in try writer.cutZeroTail() }
    }

    /// After a failed write or sync of the mirror, once the disk is fixed: checks that the mirror's
    /// directory takes writes again, then opens the mirror as `init` does (cutting off a torn tail).
    /// File I/O: call it off the loop, then hand the result to `resume(with:)` on the loop. Reads
    /// only what `init` fixed, so it is safe while the loop runs.
    public func reopenMirror() throws(TranlogError) -> ReopenedMirror {
        try MirrorLogWriter.checkWritable(directory: mirrorLocation.directory, fileSystem: mirrorLocation.fileSystem)
        let (writer, validator) = try mirrorLocation.open(logger: logger)
        return ReopenedMirror(writer: writer, validator: validator)
    }

    /// On the loop: a failed receiver takes the reopened mirror and is stopped (`start()` resumes
    /// receiving from the mirror's end); the failed mirror goes to `reopened` to be closed off the loop.
    public func resume(with reopened: ReopenedMirror) {
        precondition(loop.inEventLoop, "LogReceiver is loop-confined")
        guard case .failed = state else { return }
        reopened.replaced = stage.replaceMirror(writer: reopened.writer, validator: reopened.validator)
        view = MirrorView(reopened.validator)
        flushedSeqno = view.lastSeqno
        lagTracker.mirrorReopened(through: view.lastSeqno, time: view.lastTime)
        state = .stopped
        logger.notice("mirror reopened at seqno \(view.lastSeqno)")
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
        connectionNumber += 1
        pendingChallenge = nil
        silentIntervals = 0
        closingAfterRefusal = false
        streamProved = false
        decoder = MessageDecoder(maxMessageBytes: min(configuration.maxMessageBytes, ReplicationProtocol.maxMessageBytesBeforeWelcome))
        state = .awaitingChallenge
        peerCheck = PeerCheck(
            peer: "\(configuration.primaryHost):\(configuration.primaryPort)", timeout: configuration.challengeTimeout, loop: loop,
            connection: connection
        ) { [weak self] in self?.refuse($0.description) }
        connection.start(ConnectionCallbacks(onRead: { self.received($0) }, onClose: { self.closed($0) }))
    }

    private func closed(_ reason: CloseReason) {
        connection = nil
        peerCheck?.cancel()
        peerCheck = nil
        lagTracker.disconnected()
        lost("connection closed: \(reason)", quietly: closingAfterRefusal)
    }

    /// Schedules the next attempt, unless stopped or failed. After a refusal (logged already, rate
    /// limited) the reconnect itself is logged only at debug level.
    private func lost(_ why: String, quietly: Bool = false) {
        guard state != .stopped, state != .waitingToReconnect else { return }
        if case .failed = state { return }
        let delay = min(configuration.reconnectInitialDelay * (1 << min(consecutiveFailures, 30)), configuration.reconnectMaxDelay)
        consecutiveFailures += 1
        if quietly {
            logger.debug("replication refused; reconnecting in \(delay)")
        } else {
            logger.warning("replication interrupted (\(why)); reconnecting in \(delay)")
        }
        state = .waitingToReconnect
        reconnectTimer = loop.scheduleTimer(after: delay) { [weak self] in
            guard let self, self.state == .waitingToReconnect else { return }
            self.connect()
        }
    }

    /// The mirror failed: `error` is the write's or sync's (the fault's description says what failed).
    private func fail(_ error: String) {
        let reason = ReceiverFault.mirrorWrite(error).description
        logger.error("receiver stopped: \(reason)")
        state = .failed(reason)
        stopTimers()
        connection?.close(.local(reason))
        onFault(.mirrorWrite(error))
    }

    private func stopTimers() {
        tickTimer?.cancel()
        reconnectTimer?.cancel()
        peerCheck?.cancel()
    }

    /// Closes the connection for a reason that will come back on every retry until someone acts:
    /// recorded in `refusal`, logged once and then at most once per `refusalLogInterval`.
    private func refuse(_ message: String) {
        if refusal?.message == message {
            refusal?.count += 1
        } else {
            refusal = Refusal(message: message, since: configuration.clock.wall(), count: 1)
        }
        if let line = refusalLog.line(for: message, now: configuration.clock.monotonic()) {
            logger.error("closing replication connection: \(line)")
        }
        closingAfterRefusal = true
        connection?.close(.local(message))
    }

    /// The connection carries the stream (a record or a heartbeat accepted after the welcome): what
    /// failed before is over, and the backoff starts over.
    private func provedStream() {
        guard !streamProved else { return }
        streamProved = true
        consecutiveFailures = 0
        refusal = nil
        refusalLog.reset()
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
        if state == .awaitingChallenge, let wrongPeer = peerCheck?.received(bytes) { return refuse(wrongPeer.description) }
        decoder.feed(bytes)
        do throws(ReceiveFailure) {
            while connection?.isOpen == true, let message = try nextMessage() {
                lagTracker.heardFromPrimary()
                try handle(message)
            }
        } catch {
            refuse(error.reason)
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
            peerCheck?.cancel()
            peerCheck = nil
            if stage.isSettled(absorbed: reportsAbsorbed) { sendHello(challenge: challenge) } else { pendingChallenge = challenge }
        case (.awaitingWelcome, .welcome(let welcome)):
            try welcomed(welcome)
        case (.awaitingWelcome, .reject(let reason)):
            lastRejection = reason
            if reason.needsOperator { onFault(.rejected(reason)) }
            throw .refused("the primary refused this standby: \(reason)")
        case (.streaming, .fileStart(let bytes)):
            stage.submit(.fileStart(bytes), connection: connectionNumber)
        case (.streaming, .records(let batch)):
            stage.submit(.records(batch), connection: connectionNumber)
            provedStream()
        case (.streaming, .heartbeat(let heartbeat)):
            lagTracker.heartbeat(heartbeat)
            provedStream()
            let newStanding = heartbeat.standing.notice != standing.notice
            standing = heartbeat.standing
            // The primary keeps waiting for this standby until it hears that the standby heard it is no longer required.
            if newStanding { sendAck() }
            onHeartbeat(heartbeat)
        default:
            throw .refused("protocol violation: \(ProtocolViolation.unexpected(message.type, state: "\(state)"))")
        }
    }

    private func sendHello(challenge: [UInt8]) {
        let position = LogPosition(epoch: view.epoch ?? history().current.epoch, seqno: view.lastSeqno)
        let hello = Hello(
            repositoryID: configuration.repositoryID, sourceID: configuration.sourceID, position: position,
            recordCRC: view.lastCRC, mirrorEnd: view.mirrorEnd, history: history())
        helloChallenge = hello.challenge
        send(.hello(HelloProof.sign(hello, challenge: challenge, key: key)))
        state = .awaitingWelcome
    }

    private func welcomed(_ welcome: Welcome) throws(ReceiveFailure) {
        guard WelcomeProof.verify(welcome, challenge: helloChallenge, key: key) else {
            throw .refused(
                "the peer at \(configuration.primaryHost):\(configuration.primaryPort) did not prove it holds the replication key "
                    + "(its welcome's proof is wrong): applying nothing from it. Check that --primary names the primary and that "
                    + "both use the same --replication-key-file")
        }
        guard welcome.repositoryID == configuration.repositoryID else {
            throw .refused("the primary serves repository \(welcome.repositoryID), not \(configuration.repositoryID)")
        }
        // A primary whose history ends before an epoch this standby has seen is an old one that has not
        // learned of it (fencing refuses such standbys itself): shown in status like a primary's reject.
        let seen = max(history().current.epoch, view.lastEpoch ?? .none)
        guard welcome.history.current.epoch >= seen else {
            let reason = RejectReason.fenced(detail: "its history ends in epoch \(welcome.history.current.epoch), older than epoch \(seen) this standby has seen")
            lastRejection = reason
            throw .refused("refusing the primary: \(reason)")
        }
        logger.info("primary at seqno \(welcome.position.seqno) welcomed this standby at seqno \(view.lastSeqno)")
        decoder.allowMessages(upTo: configuration.maxMessageBytes)
        state = .streaming
        lastRejection = nil
        // What an earlier conversation said no longer holds (the primary may have restarted since).
        standing = welcome.standing
        lagTracker.welcomed(primaryLastSeqno: welcome.position.seqno)
    }

    /// On the loop, after each drain of the mirror writer: acknowledges what it synced, tells the
    /// node, closes a connection whose message it refused, and sends a hello that waited for it.
    private func absorb(_ report: MirrorReport) {
        reportsAbsorbed += 1
        if let failure = report.failure { return fail(failure) }
        view = report.view
        if report.receivedBytes > 0 {
            lagTracker.received(through: view.lastSeqno, time: view.lastTime, bytes: report.receivedBytes)
            progressTracker.received(through: view.lastSeqno, bytes: report.receivedBytes)
        }
        if view.lastSeqno > flushedSeqno {
            flushedSeqno = view.lastSeqno
            lagTracker.flushed(through: flushedSeqno, time: view.lastTime)
            if state == .streaming { sendAck() }
        }
        if let refusal = report.refusal, refusal.connection == connectionNumber, connection != nil { refuse(refusal.reason) }
        if let challenge = pendingChallenge, stage.isSettled(absorbed: reportsAbsorbed) {
            pendingChallenge = nil
            sendHello(challenge: challenge)
        }
    }

    private func sendAck() {
        lastAck = Ack(received: view.lastSeqno, flushed: flushedSeqno, applied: appliedSeqno, notice: standing.notice)
        send(.ack(lastAck))
    }

    private func send(_ message: ReplicationMessage) {
        _ = connection?.write(MessageCodec.encode(message))
    }
}

/// Why a read of the primary's stream stops: a refused message (the connection is closed and
/// replication resumes after a backoff).
private struct ReceiveFailure: Error {
    let reason: String

    static func refused(_ reason: String) -> ReceiveFailure { ReceiveFailure(reason: reason) }
}

/// Where a receiver's mirror lives, to open it at start and again after a failure.
private struct MirrorLocation {
    let directory: FilePath
    let fileSystem: any TranlogFileSystem
    let repositoryID: RepositoryID
    let emptyPosition: (seqno: Seqno, crc: UInt32)

    func open(logger: Logger) throws(TranlogError) -> (MirrorLogWriter, StreamValidator) {
        try MirrorLogWriter.open(directory: directory, fileSystem: fileSystem, repositoryID: repositoryID, emptyPosition: emptyPosition, logger: logger)
    }
}

/// A mirror opened again off the loop (`LogReceiver.reopenMirror()`), for `resume(with:)` on the loop.
/// `@unchecked Sendable`: handed from one thread to the other, used by one at a time.
public final class ReopenedMirror: @unchecked Sendable {
    fileprivate let writer: MirrorLogWriter
    fileprivate let validator: StreamValidator
    /// The failed mirror `resume(with:)` replaced.
    fileprivate var replaced: MirrorLogWriter?

    fileprivate init(writer: MirrorLogWriter, validator: StreamValidator) {
        self.writer = writer
        self.validator = validator
    }

    /// Off the loop, after `resume(with:)`: closes the failed mirror's file (not synced: it failed).
    public func closeReplaced() throws(TranlogError) {
        defer { replaced = nil }
        try replaced?.abandon()
    }
}
