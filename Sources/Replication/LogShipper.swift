import Dispatch
import Logging
import Repository
import Tranlog
import Transport

/// The primary's side of one standby connection (PostgreSQL's walsender): challenge, hello, welcome
/// or reject, then the log streamed from where the standby's own copy ends, file by file, as it grows.
///
/// Loop-confined. Reading is paced by the connection: the next chunk of log is read only while the
/// connection is writable, and `onWritable` resumes it, so a slow standby pins at most the write
/// queue's high-water mark plus one batch. When the log is exhausted the shipper waits for
/// `logAdvanced()` (the node calls it after each group commit) or for its poll timer.
///
/// The newest frames come from the writer's memory (`PrimaryLog.recentFrames`); everything else —
/// a standby behind them, finding a standby's position at admission — is read from the files on a
/// reader queue of the shipper's own, one read at a time, so the loop thread never waits for a disk.
///
/// `@unchecked Sendable` only so other threads can hand it work through `loop.execute`; every entry
/// point checks that it runs on the loop.
public final class LogShipper: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// A heartbeat goes out this often, also when idle. Default 1 s.
        public var heartbeatInterval: Duration = .seconds(1)
        /// The log is checked for growth this often without a `logAdvanced()`. Default 200 ms.
        public var pollInterval: Duration = .milliseconds(200)
        /// A standby that has not sent its hello by then is disconnected. Default 10 s.
        public var handshakeTimeout: Duration = .seconds(10)
        /// Heartbeat intervals without a message from a streaming standby (it acks every interval)
        /// before its connection is dropped: a half-open connection (the standby's host vanished in a
        /// partition) never closes by itself. Default 15 (PostgreSQL's wal_sender_timeout is 60 s).
        public var timeoutIntervals = 15
        /// Log bytes read (and sent as one records message) at a time. Default 256 KiB.
        public var batchBytes = 256 * 1024
        /// Gzip record batches (level 1) when that makes them smaller. Default off: worth it on slow links.
        public var compressRecords = false
        /// Backup bytes sent per `baseCopyData`, and an optional pause after each (tests only). Default 256 KiB.
        public var baseCopyChunkBytes = 256 * 1024
        public var baseCopyChunkDelay: Duration?
        /// How long a cut base copy's pin is kept for its standby to resume. Default 60 s (the
        /// standby's backoff reaches 30 s).
        public var baseCopyResumeWindow: Duration = .seconds(60)
        /// Reads files on a queue of the shipper's own (default); false reads them as loop work, for
        /// the fake loop's tests, where the loop's thread is the test's.
        public var readsFilesOnItsOwnThread = true

        public init() {}
    }

    private enum State {
        case awaitingHello(challenge: [UInt8])
        /// The hello was accepted; the standby's position is being found in the files.
        case locating(Hello)
        case streaming
        /// Serving a base copy: the sender has the connection's events.
        case baseCopy(BaseCopySender)
        case closed

        var name: String {
            switch self {
            case .awaitingHello: "awaiting hello"
            case .locating: "finding the standby's position"
            case .streaming: "streaming"
            case .baseCopy: "sending a base copy"
            case .closed: "closed"
            }
        }
    }

    public private(set) var status: ShipperStatus
    private let connection: any Connection
    private let loop: any EventLoop
    private let log: PrimaryLog
    /// Every key accepted from standbys (two during a rotation).
    private let key: ReplicationKey
    /// The key this connection's standby proved it holds, which answers it are signed under.
    private var sessionKey: ReplicationKey
    private let baseCopySource: (any BaseCopySource)?
    private let configuration: Configuration
    private var logger: Logger
    private let onClose: (ShipperStatus) -> Void
    /// Called on admission and on every ack: what tranlog retention records for the standby.
    private let onProgress: (ShipperStatus) -> Void
    private var state = State.closed
    /// A standby sends only small messages: a longer declared length is refused unread.
    private var decoder = MessageDecoder(maxMessageBytes: ReplicationProtocol.maxStandbyMessageBytes)
    private let refusals: PeerRefusalLog
    /// The peer proved it holds the key (its hello's or base-copy request's proof verified).
    public private(set) var isAuthenticated = false
    private var cursor: ShipCursor?
    /// Sent batches not yet acknowledged as flushed, oldest first: the last seqno and end of each.
    private var unflushed: [(lastSeqno: Seqno, end: EventID, bytes: Int)] = []
    private var commitTimes = SentCommitTimes()
    private var timers: [any LoopTimer] = []
    /// Where file reads run (nil: as loop work); a read is in flight while `reading` is set.
    private let reads: OffLoopFiles
    private var reading = false
    /// The log grew while a read was in flight: a read that found nothing looks again.
    private var advancedWhileReading = false
    /// Heartbeats sent since the standby's last message.
    private var silentIntervals = 0

    public init(
        connection: any Connection, loop: any EventLoop, log: PrimaryLog, key: ReplicationKey,
        configuration: Configuration = Configuration(), baseCopySource: (any BaseCopySource)? = nil, logger: Logger,
        refusals: PeerRefusalLog = PeerRefusalLog(), onClose: @escaping (ShipperStatus) -> Void = { _ in }, onProgress: @escaping (ShipperStatus) -> Void = { _ in }
    ) {
        self.baseCopySource = baseCopySource
        self.connection = connection
        self.loop = loop
        self.log = log
        self.key = key
        sessionKey = key
        self.configuration = configuration
        self.logger = logger
        self.logger[metadataKey: "replication.peer"] = "\(connection.peerAddress)"
        self.onClose = onClose
        self.onProgress = onProgress
        reads = OffLoopFiles(reader: configuration.readsFilesOnItsOwnThread ? DispatchQueue(label: "understudy.shipper-reader") : nil, loop: loop)
        self.refusals = refusals
        status = ShipperStatus(peer: connection.peerAddress)
    }

    /// Starts reading and sends the challenge. The connection keeps the shipper alive until it closes.
    public func start() {
        precondition(loop.inEventLoop, "LogShipper is loop-confined")
        let challenge = HelloProof.makeChallenge()
        state = .awaitingHello(challenge: challenge)
        connection.start(
            ConnectionCallbacks(
                onRead: { self.received($0) }, onWritable: { self.pump() }, onClose: { self.closed($0) }))
        send(.challenge(challenge))
        timers.append(loop.scheduleTimer(after: configuration.handshakeTimeout) { [weak self] in
            guard let self, case .awaitingHello = self.state else { return }
            self.refuse("no hello within \(self.configuration.handshakeTimeout)", kind: "handshake timeout")
        })
    }

    /// Still waiting for a hello or base-copy request: the connection has proved nothing yet.
    public var isPending: Bool {
        if case .awaitingHello = state { return true }
        return false
    }

    /// Drops a pending connection (more are pending than the port allows), logged as a refusal.
    public func dropPending(_ reason: String) {
        precondition(loop.inEventLoop, "LogShipper is loop-confined")
        refuse("unauthenticated, dropped: \(reason)", kind: "pending limit")
    }

    /// The log grew (a group commit became durable): ship it now rather than at the next poll.
    public func logAdvanced() {
        precondition(loop.inEventLoop, "LogShipper is loop-confined")
        if reading { advancedWhileReading = true }
        pump()
    }

    /// The standby's synchronous standing changed: it hears it now, in a heartbeat out of turn (even
    /// behind queued records: the primary keeps waiting for it until it heard).
    public func standingChanged() {
        precondition(loop.inEventLoop, "LogShipper is loop-confined")
        guard case .streaming = state else { return }
        heartbeat()
    }

    /// Disconnects the standby; it will reconnect on its own.
    public func close(_ reason: String) {
        precondition(loop.inEventLoop, "LogShipper is loop-confined")
        logger.warning("closing replication connection: \(reason)")
        connection.close(.local(reason), mode: .immediately)
    }

    /// Closes a connection that proved nothing, logged at most once a minute per peer host and kind.
    private func refuse(_ reason: String, kind: String) {
        refusals.warn("closing replication connection: \(reason)", kind: kind, peer: connection.peerAddress, logger: logger)
        connection.close(.local(reason), mode: .immediately)
    }

    // MARK: - Incoming

    private func received(_ bytes: [UInt8]) {
        silentIntervals = 0
        decoder.feed(bytes)
        do throws(ProtocolViolation) {
            while connection.isOpen, let message = try decoder.next() { try handle(message) }
        } catch {
            guard isAuthenticated else { return refuse("protocol violation: \(error)", kind: "garbage") }
            close("protocol violation: \(error)")
        }
    }

    private func handle(_ message: ReplicationMessage) throws(ProtocolViolation) {
        switch (state, message) {
        case (.awaitingHello(let challenge), .hello(let hello)):
            admit(hello, challenge: challenge)
        case (.awaitingHello, .foreignHello(let version)):
            reject(.protocolVersion(primary: ReplicationProtocol.version, standby: version))
        case (.awaitingHello(let challenge), .baseCopyRequest(let request)):
            startBaseCopy(request, challenge: challenge)
        case (.awaitingHello, .foreignBaseCopyRequest(let version)):
            reject(.protocolVersion(primary: BaseCopyProtocol.version, standby: version))
        case (.streaming, .ack(let ack)):
            acknowledged(ack)
        default:
            throw .unexpected(message.type, state: state.name)
        }
    }

    private func admit(_ hello: Hello, challenge: [UInt8]) {
        status.standby = hello.sourceID
        logger[metadataKey: "replication.standby"] = "\(hello.sourceID)"
        switch StandbyAdmission.check(hello, challenge: challenge, key: key, log: log) {
        case .reject(let reason): return reject(reason)
        case .fence(let newer): return fenceThenReject(newer, hello: hello)
        case .admit(let standbyKey): sessionKey = standbyKey
        }
        isAuthenticated = true
        state = .locating(hello)
        readFiles({ [self] () throws(TranlogError) in
            try ShipStart.locate(for: hello, in: log, chunkBytes: configuration.batchBytes)
        }) { shipper, result in shipper.located(result) }
    }

    private func located(_ result: Result<Result<ShipStart, RejectReason>, TranlogError>) {
        guard case .locating(let hello) = state else { return }
        switch result {
        case .success(.failure(let reason)): reject(reason)
        case .success(.success(let start)): beginStreaming(start, after: hello)
        case .failure(let error): close("cannot read the log to find seqno \(hello.position.seqno.next): \(error)")
        }
    }

    /// Runs `read` (file reads) on the reader queue, then `done` with its outcome as loop work; one
    /// read at a time.
    private func readFiles<Value: Sendable>(
        _ read: @escaping @Sendable () throws(TranlogError) -> Value, then done: @escaping @Sendable (LogShipper, Result<Value, TranlogError>) -> Void
    ) {
        precondition(!reading, "one file read at a time")
        reading = true
        advancedWhileReading = false
        reads.run(read) { [self] result in
            reading = false
            done(self, result)
        }
    }

    /// The standby knows an epoch this primary does not: another node was promoted. The fence is
    /// made durable (off the loop, by the node) before the standby hears the refusal.
    private func fenceThenReject(_ entry: EpochEntry, hello: Hello) {
        state = .closed
        let newer = NewerEpoch(
            epoch: entry.epoch, seqno: entry.startSeqno, node: "\(entry.sourceID)",
            learnedFrom: "the hello of standby \(hello.sourceID) connecting from \(connection.peerAddress)")
        log.fence(newer) { [loop] result in
            loop.execute {
                switch result {
                case .success(let fence): self.reject(.fenced(detail: fence.description))
                case .failure(let error):
                    self.logger.error("a standby revealed epoch \(entry.epoch), but this node could not fence itself: \(error)")
                    self.reject(.fenced(detail: "epoch \(entry.epoch) began at seqno \(entry.startSeqno) on \(entry.sourceID), and fencing this node failed: \(error)"))
                }
            }
        }
    }

    /// Checks the request's proof, then hands the connection to a `BaseCopySender`.
    private func startBaseCopy(_ request: BaseCopyRequest, challenge: [UInt8]) {
        status.standby = request.sourceID
        logger[metadataKey: "replication.standby"] = "\(request.sourceID)"
        guard let standbyKey = BaseCopyProof.matchingKey(request, challenge: challenge, key: key) else { return reject(.wrongKey) }
        isAuthenticated = true
        guard let baseCopySource else { return reject(.baseCopyFailed(detail: "this primary does not serve base copies")) }
        let sender = BaseCopySender(
            connection: connection, loop: loop, reads: reads, source: baseCopySource, key: standbyKey, request: request,
            configuration: .init(chunkBytes: configuration.baseCopyChunkBytes, chunkDelay: configuration.baseCopyChunkDelay),
            logger: logger, onReject: { [weak self] in self?.reject($0) })
        state = .baseCopy(sender)
        status.state = .sendingBaseCopy
        sender.start()
    }

    private func reject(_ reason: RejectReason) {
        refusals.warn("refusing standby: \(reason)", kind: reason.logKind, peer: connection.peerAddress, logger: logger)
        status.rejection = reason
        send(.reject(reason))
        state = .closed
        connection.close(.local("rejected: \(reason)"), mode: .afterFlush)
    }

    private func beginStreaming(_ start: ShipStart, after hello: Hello) {
        logger.info("standby at seqno \(hello.position.seqno) accepted; streaming from \(start.cursor.nextEventID)")
        state = .streaming
        status.state = .streaming
        status.sentSeqno = hello.position.seqno
        status.retainFrom = start.cursor.nextEventID
        let history = log.history()
        let welcome = Welcome(
            repositoryID: log.repositoryID, position: LogPosition(epoch: history.current.epoch, seqno: log.durableSeqno()),
            history: history, standing: log.standing(hello.sourceID.name))
        send(.welcome(WelcomeProof.sign(welcome, challenge: hello.challenge, key: sessionKey)))
        if start.sendsFileStart { send(.fileStart(header: start.headerBytes)) }
        cursor = start.cursor
        onProgress(status)
        timers.append(loop.scheduleTimer(after: configuration.heartbeatInterval, repeating: configuration.heartbeatInterval) { [weak self] in
            self?.sendHeartbeat()
        })
        timers.append(loop.scheduleTimer(after: configuration.pollInterval, repeating: configuration.pollInterval) { [weak self] in
            self?.pump()
        })
        pump()
    }

    private func acknowledged(_ ack: Ack) {
        status.acked = ack
        status.lastAckTime = log.clock()
        if let time = commitTimes.applied(through: ack.applied) { status.appliedTime = time }
        while let oldest = unflushed.first, oldest.lastSeqno <= ack.flushed {
            unflushed.removeFirst()
            status.retainFrom = oldest.end
            status.unflushedBytes -= UInt64(oldest.bytes)
        }
        onProgress(status)
    }

    // MARK: - Streaming

    /// Ships batches while the connection takes them, moving to the next file at the end of one:
    /// from memory while the primary holds them there, else one read of the files at a time.
    private func pump() {
        if case .baseCopy(let sender) = state { return sender.writable() }
        guard case .streaming = state, !reading, var current = cursor else { return }
        defer { cursor = current }
        do throws(TranlogError) {
            while connection.isWritable {
                switch log.recentFrames?.next(after: current.nextEventID, maxBytes: configuration.batchBytes) ?? .notHeld {
                case .frames(let frames):
                    ship(FrameChunk(bytes: frames.bytes, headers: frames.headers), &current)
                case .nextFile(let fileID, let bytes):
                    let file = log.file(fileID)
                    guard try enter(file, header: log.header(file, decoding: bytes), bytes: bytes, &current) else { return caughtUp() }
                case .caughtUp:
                    return caughtUp()
                case .notHeld:
                    return readFiles({ [self, current] () throws(TranlogError) in
                        try log.next(after: current, chunkBytes: configuration.batchBytes)
                    }) { shipper, result in shipper.filesRead(result) }
                }
            }
        } catch {
            close("cannot ship \(current.file.fileID.fileName): \(error)")
        }
    }

    private func caughtUp() {
        status.caughtUp = true
    }

    /// What a read of the files found after the cursor (which did not move meanwhile: pumping waits).
    private func filesRead(_ result: Result<FileStep, TranlogError>) {
        guard case .streaming = state, var current = cursor else { return }
        do throws(TranlogError) {
            switch try result.get() {
            case .frames(let chunk): ship(chunk, &current)
            case .nextFile(let file, let header, let bytes):
                guard try enter(file, header: header, bytes: bytes, &current) else { return caughtUp() }
            case .nothing:
                guard advancedWhileReading else { return caughtUp() }
            }
            cursor = current
            pump()
        } catch {
            close("cannot ship \(current.file.fileID.fileName): \(error)")
        }
    }

    private func ship(_ chunk: FrameChunk, _ current: inout ShipCursor) {
        let first = current.nextEventID
        for frame in chunk.headers {
            current.advance(past: frame)
            commitTimes.sent(frame.seqno, committed: frame.time)
        }
        let wireBytes = send(.records(RecordBatch(firstEventID: first, frames: chunk.bytes)))
        unflushed.append((current.lastSeqno, current.nextEventID, chunk.bytes.count))
        status.sentSeqno = current.lastSeqno
        status.unflushedBytes += UInt64(chunk.bytes.count)
        status.shippedFrameBytes += UInt64(chunk.bytes.count)
        status.wireRecordBytes += UInt64(wireBytes - MessageCodec.recordsOverheadBytes)
    }

    /// Sends `next`'s header and moves the cursor into it, if it continues the current file; false
    /// while the current file's end is not durable yet.
    private func enter(_ next: TranlogFileRef, header: FileHeader, bytes: [UInt8], _ current: inout ShipCursor) throws(TranlogError) -> Bool {
        guard current.isContinued(by: header) else {
            guard current.endedWithFileEnd else { return false }  // the rest of this file is not durable yet
            throw .truncatedLog(
                fileID: current.file.fileID, next: next.fileID,
                detail: "\(next.fileID.fileName) does not continue seqno \(current.lastSeqno)")
        }
        send(.fileStart(header: bytes))
        current = ShipCursor(file: next, header: header)
        return true
    }

    private func sendHeartbeat() {
        silentIntervals += 1
        guard silentIntervals < configuration.timeoutIntervals else {
            return close("the standby sent nothing for \(silentIntervals) heartbeat intervals (replication timeout): the connection is presumed dead")
        }
        guard connection.isWritable else { return }  // records are queued: the standby hears from us anyway
        heartbeat()
    }

    private func heartbeat() {
        let standing = status.standby.map { log.standing($0.name) } ?? .notRequired
        send(.heartbeat(Heartbeat(lastSeqno: log.durableSeqno(), primaryTime: log.clock(), digest: log.digest(), standing: standing)))
    }

    @discardableResult
    private func send(_ message: ReplicationMessage) -> Int {
        let bytes = MessageCodec.encode(message, compressRecords: configuration.compressRecords)
        switch connection.write(bytes) {
        case .queued, .queueFull: break
        case .rejected, .closed: logger.debug("\(message.type) not sent: the connection is full or closing")
        }
        return bytes.count
    }

    private func closed(_ reason: CloseReason) {
        timers.forEach { $0.cancel() }
        timers = []
        if case .baseCopy(let sender) = state { sender.closed() }
        state = .closed
        status.state = .closed(reason.description)
        // A peer that never proved the key was already logged, rate-limited, if it was refused.
        logger.log(level: isAuthenticated ? .info : .debug, "replication connection closed: \(reason)")
        onClose(status)
    }
}
