import Logging
import SystemPackage
import Tranlog
import Transport

/// The standby's side of a base copy (pg_basebackup): connects, answers the challenge with a signed
/// `baseCopyRequest`, writes the backup the primary streams into `file` as it arrives, and checks the
/// end message (size, CRC, SHA-256 of every byte, the primary's proof over its nonce) before calling
/// `completion` once, with the end or the failure.
///
/// Loop-confined. Each chunk is written to the file as it is decoded, so memory holds at most one
/// read's bytes; the kernel's socket buffers and the primary's bounded write queue do the rest. On
/// failure the partial file is removed.
public final class BaseCopyClient {
    public struct Progress: Sendable, Hashable {
        public var receivedBytes: UInt64
        /// Known once the primary staged its backup.
        public var totalBytes: UInt64?

        public init(receivedBytes: UInt64, totalBytes: UInt64?) {
            self.receivedBytes = receivedBytes
            self.totalBytes = totalBytes
        }
    }

    private enum State {
        case connecting
        case awaitingChallenge
        case awaitingStart
        case receiving(BaseCopyStart)
        case done
    }

    private let loop: any EventLoop
    private let key: ReplicationKey
    private let sourceID: SourceID
    private let file: FilePath
    private let fileSystem: any TranlogFileSystem
    private let logger: Logger
    private let onProgress: (Progress) -> Void
    private let completion: (Result<BaseCopyEnd, BaseCopyFailure>) -> Void
    private let nonce = BaseCopyProof.makeNonce()
    private var state = State.connecting
    private var connection: (any Connection)?
    private var decoder = MessageDecoder()
    private var output: (any AppendableFile)?
    private var digest = BaseCopyDigest()
    /// Drops a connection that went silent while chunks were flowing (see `silenceLimit`).
    private var watchdog: (any LoopTimer)?
    private var silentChecks = 0
    private var peerCheck: PeerCheck?
    /// See `LogReceiver.Configuration.challengeTimeout`. Default 2 s.
    public var challengeTimeout: Duration = .seconds(2)
    /// How long chunks may stop before the copy is presumed dead (a partition leaves TCP half-open)
    /// and retried. Not while the primary stages its backup: that takes as long as the backup does,
    /// and nothing is sent meanwhile. Checked every `silenceLimit / 6`.
    public var silenceLimit: Duration = .seconds(60)

    public init(
        loop: any EventLoop, key: ReplicationKey, sourceID: SourceID, file: FilePath, fileSystem: any TranlogFileSystem, logger: Logger,
        onProgress: @escaping (Progress) -> Void = { _ in }, completion: @escaping (Result<BaseCopyEnd, BaseCopyFailure>) -> Void
    ) {
        self.loop = loop
        self.key = key
        self.sourceID = sourceID
        self.file = file
        self.fileSystem = fileSystem
        self.logger = logger
        self.onProgress = onProgress
        self.completion = completion
    }

    /// Connects to the primary. On the loop.
    public func start(host: String, port: Int) {
        precondition(loop.inEventLoop, "BaseCopyClient is loop-confined")
        loop.connect(host: host, port: port) { [self] result in
            switch result {
            case .failure(let error): finish(.failure(.connectionLost("cannot connect: \(error)", received: 0, total: nil)))
            case .success(let connection):
                guard case .connecting = state else { return connection.close(.local("base copy abandoned")) }
                self.connection = connection
                state = .awaitingChallenge
                peerCheck = PeerCheck(peer: "\(host):\(port)", timeout: challengeTimeout, loop: loop, connection: connection) { [weak self] in
                    self?.finish(.failure(.wrongPeer($0)))
                }
                connection.start(ConnectionCallbacks(onRead: { self.received($0) }, onClose: { self.closed($0) }))
                watchdog = loop.scheduleTimer(after: silenceLimit / 6, repeating: silenceLimit / 6) { [weak self] in self?.checkSilence() }
            }
        }
    }

    /// Abandons the copy (the node is stopping). On the loop.
    public func cancel(_ why: String) {
        finish(.failure(.connectionLost(why, received: digest.byteCount, total: total)))
    }

    private var total: UInt64? {
        if case .receiving(let start) = state { return start.byteCount }
        return nil
    }

    private func received(_ bytes: [UInt8]) {
        silentChecks = 0
        if case .awaitingChallenge = state, let wrongPeer = peerCheck?.received(bytes) { return finish(.failure(.wrongPeer(wrongPeer))) }
        decoder.feed(bytes)
        do throws(BaseCopyFailure) {
            while connection?.isOpen == true, let message = try nextMessage() { try handle(message) }
        } catch {
            finish(.failure(error))
        }
    }

    private func nextMessage() throws(BaseCopyFailure) -> ReplicationMessage? {
        do { return try decoder.next() } catch { throw .protocolViolation(error.description) }
    }

    private func handle(_ message: ReplicationMessage) throws(BaseCopyFailure) {
        switch (state, message) {
        case (.awaitingChallenge, .challenge(let challenge)):
            peerCheck?.cancel()
            peerCheck = nil
            let request = BaseCopyProof.sign(BaseCopyRequest(sourceID: sourceID, nonce: nonce), challenge: challenge, key: key)
            _ = connection?.write(MessageCodec.encode(.baseCopyRequest(request)))
            state = .awaitingStart
        case (.awaitingStart, .reject(let reason)):
            throw .rejected(reason)
        case (.awaitingStart, .baseCopyStart(let start)):
            try begin(start)
        case (.receiving(let start), .baseCopyData(let chunk)):
            try write(chunk, of: start)
        case (.receiving(let start), .baseCopyEnd(let end)):
            try verify(end, of: start)
            try storage { () throws(TranlogError) in
                try output?.sync()
                try output?.close()
            }
            output = nil
            finish(.success(end))
        default:
            throw .protocolViolation(ProtocolViolation.unexpected(message.type, state: "\(state)").description)
        }
    }

    private func begin(_ start: BaseCopyStart) throws(BaseCopyFailure) {
        logger.notice("base copy started", metadata: ["repository": "\(start.repositoryID)", "bytes": "\(start.byteCount)"])
        output = try storage { () throws(TranlogError) in try fileSystem.createFile(file) }
        state = .receiving(start)
        onProgress(Progress(receivedBytes: 0, totalBytes: start.byteCount))
    }

    private func write(_ chunk: BaseCopyChunk, of start: BaseCopyStart) throws(BaseCopyFailure) {
        guard chunk.offset == digest.byteCount else {
            throw .protocolViolation("a chunk at offset \(chunk.offset), expected \(digest.byteCount)")
        }
        guard chunk.offset + UInt64(chunk.bytes.count) <= start.byteCount else {
            throw .protocolViolation("a chunk ends at \(chunk.offset + UInt64(chunk.bytes.count)), past the announced \(start.byteCount) bytes")
        }
        try storage { () throws(TranlogError) in try output?.append(chunk.bytes[...]) }
        digest.update(chunk.bytes)
        onProgress(Progress(receivedBytes: digest.byteCount, totalBytes: start.byteCount))
    }

    private func verify(_ end: BaseCopyEnd, of start: BaseCopyStart) throws(BaseCopyFailure) {
        guard BaseCopyProof.verify(end, nonce: nonce, key: key) else {
            throw .verification("the end message's proof does not match this standby's key and nonce: not sent by a holder of the key")
        }
        guard end.repositoryID == start.repositoryID else {
            throw .verification("the end names repository \(end.repositoryID), the start \(start.repositoryID)")
        }
        guard digest.byteCount == start.byteCount, end.byteCount == start.byteCount else {
            throw .verification("received \(digest.byteCount) bytes; the primary announced \(start.byteCount) and sent \(end.byteCount)")
        }
        guard digest.crc == end.crc, digest.finalize() == end.digest else {
            throw .verification("the bytes received have CRC \(hex(digest.crc)), the primary's have \(hex(end.crc)) (or their SHA-256 differs)")
        }
    }

    private func checkSilence() {
        switch state {
        case .awaitingChallenge, .receiving: silentChecks += 1
        case .connecting, .awaitingStart, .done: silentChecks = 0
        }
        guard silentChecks >= 6 else { return }
        finish(.failure(.connectionLost(
            "nothing from the primary for \(silenceLimit) in the middle of the copy: the connection is presumed dead",
            received: digest.byteCount, total: total)))
    }

    private func closed(_ reason: CloseReason) {
        connection = nil
        finish(.failure(.connectionLost("connection closed: \(reason)", received: digest.byteCount, total: total)))
    }

    /// Reports once; a failure closes the connection and removes the partial file.
    private func finish(_ result: Result<BaseCopyEnd, BaseCopyFailure>) {
        if case .done = state { return }
        state = .done
        watchdog?.cancel()
        watchdog = nil
        peerCheck?.cancel()
        if case .failure(let failure) = result {
            try? output?.close()
            output = nil
            try? fileSystem.removeFile(file)
            connection?.close(.local("base copy failed: \(failure)"))
        }
        connection?.close(.local("base copy received"))
        connection = nil
        completion(result)
    }

    private func storage<Value>(_ body: () throws(TranlogError) -> Value) throws(BaseCopyFailure) -> Value {
        do { return try body() } catch { throw .storage("\(file): \(error)") }
    }
}
