import Dispatch
import Logging
import SystemPackage
import Tranlog
import Transport

/// The standby's side of a base copy (pg_basebackup): connects, answers the challenge with a signed
/// `baseCopyRequest` (naming the pin and bytes `receipt` already holds, to resume), writes each
/// file's chunks straight into its final place in the receipt's directory as they arrive, and checks
/// the end message (the primary's proof over its nonce, the file list and each file's SHA-256) before
/// calling `completion` once, with the end or the failure.
///
/// Loop-confined for the socket; files are written on a writer queue of its own (`writesFilesOnItsOwnThread`).
/// Each chunk's CRC is checked on arrival, so a damaged byte is refused naming its file. Reading
/// pauses while more than `maxPendingBytes` wait for the disk, so memory stays bounded. A failure
/// keeps what was received: the next attempt resumes it, or resets it for a new pin. `@unchecked
/// Sendable` only so writer work can hand results back through `loop.execute`.
public final class BaseCopyClient: @unchecked Sendable {
    public struct Progress: Sendable, Hashable {
        public var receivedBytes: UInt64
        /// Known once the primary pinned its files.
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
        /// `next`: the offset the next chunk of each file must have.
        case receiving(BaseCopyStart, next: [UInt64])
        case finishing
        case done
    }

    private let loop: any EventLoop
    private let key: ReplicationKey
    private let sourceID: SourceID
    private let receipt: BaseCopyReceipt
    private let writes: OffLoopFiles
    private let logger: Logger
    private let onProgress: (Progress) -> Void
    private let completion: (Result<BaseCopyEnd, BaseCopyFailure>) -> Void
    private let nonce = BaseCopyProof.makeNonce()
    private var resume: BaseCopyResume?
    private var state = State.connecting
    private var connection: (any Connection)?
    private var decoder = MessageDecoder()
    private var pendingBytes = 0
    private var paused = false
    /// The first failure of a write job, reported once the loop sees it.
    private var writeFailure: BaseCopyFailure?
    /// Drops a connection that went silent while chunks were flowing (see `silenceLimit`).
    private var watchdog: (any LoopTimer)?
    private var silentChecks = 0
    private var peerCheck: PeerCheck?
    /// See `LogReceiver.Configuration.challengeTimeout`. Default 2 s.
    public var challengeTimeout: Duration = .seconds(2)
    /// How long chunks may stop before the copy is presumed dead (a partition leaves TCP half-open)
    /// and retried. Checked every `silenceLimit / 6`.
    public var silenceLimit: Duration = .seconds(60)
    /// Received bytes waiting for the disk before reading pauses. Default 8 MiB.
    public var maxPendingBytes = 8 << 20

    /// `writesFilesOnItsOwnThread` false writes as loop work (the fake loop's tests).
    public init(
        loop: any EventLoop, key: ReplicationKey, sourceID: SourceID, receipt: BaseCopyReceipt, writesFilesOnItsOwnThread: Bool = true,
        logger: Logger, onProgress: @escaping (Progress) -> Void = { _ in }, completion: @escaping (Result<BaseCopyEnd, BaseCopyFailure>) -> Void
    ) {
        self.loop = loop
        self.key = key
        self.sourceID = sourceID
        self.receipt = receipt
        writes = OffLoopFiles(reader: writesFilesOnItsOwnThread ? DispatchQueue(label: "understudy.base-copy-writer") : nil, loop: loop)
        self.logger = logger
        self.onProgress = onProgress
        self.completion = completion
    }

    /// Connects to the primary. On the loop; the receipt's owner is not touching it.
    public func start(host: String, port: Int) {
        precondition(loop.inEventLoop, "BaseCopyClient is loop-confined")
        resume = receipt.resume
        loop.connect(host: host, port: port) { [self] result in
            switch result {
            case .failure(let error): finish(.failure(.connectionLost("cannot connect: \(error)", received: heldBytes, total: nil)))
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
        finish(.failure(.connectionLost(why, received: heldBytes, total: total)))
    }

    private var total: UInt64? {
        if case .receiving(let start, _) = state { return start.byteCount }
        return nil
    }

    private var heldBytes: UInt64 {
        if case .receiving(_, let next) = state { return next.reduce(0, +) }
        return resume?.held.reduce(0, +) ?? 0
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
            let request = BaseCopyProof.sign(BaseCopyRequest(sourceID: sourceID, nonce: nonce, resume: resume), challenge: challenge, key: key)
            _ = connection?.write(MessageCodec.encode(.baseCopyRequest(request)))
            state = .awaitingStart
        case (.awaitingStart, .reject(let reason)):
            throw .rejected(reason)
        case (.awaitingStart, .baseCopyStart(let start)):
            begin(start)
        case (.receiving(let start, var next), .baseCopyData(let chunk)):
            try check(chunk, of: start, next: next)
            next[Int(chunk.file)] += UInt64(chunk.bytes.count)
            state = .receiving(start, next: next)
            write(chunk)
            onProgress(Progress(receivedBytes: next.reduce(0, +), totalBytes: start.byteCount))
        case (.receiving(let start, let next), .baseCopyEnd(let end)):
            try verifySizes(next, of: start)
            state = .finishing
            connection?.pauseReading()
            writes.run({ [receipt] () throws(BaseCopyFailure) in try receipt.finish() }) { result in
                self.finishFiles(result, end: end, start: start)
            }
        default:
            throw .protocolViolation(ProtocolViolation.unexpected(message.type, state: "\(state)").description)
        }
    }

    /// A start continuing the pin held (same pin, same files) resumes; any other starts the copy
    /// over, which the log says. The writer is idle here: the receipt is read on the loop.
    private func begin(_ start: BaseCopyStart) {
        let resumes = resume?.pinID == start.pinID && receipt.continues(start)
        if let resume, !resumes {
            logger.notice(
                "base copy: starting over — the primary no longer holds the pin this standby was copying (it restarted, or the pin lapsed)",
                metadata: ["heldBytes": "\(resume.held.reduce(0, +))"])
        }
        let next = resumes ? resume!.held : Array(repeating: 0, count: start.files.count)
        logger.notice(
            resumes ? "base copy resumed" : "base copy started",
            metadata: ["repository": "\(start.repositoryID)", "files": "\(start.files.count)", "bytes": "\(start.byteCount)",
                       "heldBytes": "\(next.reduce(0, +))"])
        state = .receiving(start, next: next)
        if !resumes { writeJob { [receipt] () throws(BaseCopyFailure) in try receipt.reset(to: start) } }
        onProgress(Progress(receivedBytes: next.reduce(0, +), totalBytes: start.byteCount))
    }

    private func check(_ chunk: BaseCopyChunk, of start: BaseCopyStart, next: [UInt64]) throws(BaseCopyFailure) {
        guard Int(chunk.file) < start.files.count else {
            throw .protocolViolation("a chunk of file \(chunk.file), but the primary listed \(start.files.count)")
        }
        let file = start.files[Int(chunk.file)]
        guard chunk.offset == next[Int(chunk.file)] else {
            throw .protocolViolation("a chunk of \(file.path) at offset \(chunk.offset), expected \(next[Int(chunk.file)])")
        }
        guard chunk.offset + UInt64(chunk.bytes.count) <= file.size else {
            throw .protocolViolation("a chunk of \(file.path) ends at \(chunk.offset + UInt64(chunk.bytes.count)), past its \(file.size) bytes")
        }
        let crc = Checksum.crc32(chunk.bytes)
        guard crc == chunk.crc else {
            throw .verification("the chunk of \(file.path) at offset \(chunk.offset) has CRC \(hex(crc)), the primary sent \(hex(chunk.crc)): damaged on the way")
        }
    }

    private func verifySizes(_ next: [UInt64], of start: BaseCopyStart) throws(BaseCopyFailure) {
        for (file, held) in zip(start.files, next) where held != file.size {
            throw .verification("the end came with \(held) of the \(file.size) bytes of \(file.path)")
        }
    }

    /// Every file is written and synced: the end must be the primary's, for these very files.
    private func finishFiles(_ result: Result<[[UInt8]], BaseCopyFailure>, end: BaseCopyEnd, start: BaseCopyStart) {
        guard case .finishing = state else { return }
        do throws(BaseCopyFailure) {
            let digests = try result.get()
            guard BaseCopyProof.verify(end, files: start.files, nonce: nonce, key: key) else {
                throw .verification("the end message's proof does not match this standby's key and nonce: not sent by a holder of the key")
            }
            guard end.repositoryID == start.repositoryID, end.pinID == start.pinID, end.digests.count == start.files.count else {
                throw .verification("the end names repository \(end.repositoryID) and \(end.digests.count) files, the start \(start.repositoryID) and \(start.files.count)")
            }
            for (index, file) in start.files.enumerated() where digests[index] != end.digests[index] {
                throw .verification("\(file.path) as received differs from the primary's (SHA-256 \(hexBytes(digests[index])), the primary's \(hexBytes(end.digests[index])))")
            }
            finish(.success(end))
        } catch {
            finish(.failure(error))
        }
    }

    /// Queues a write; reading pauses while too much waits for the disk.
    private func write(_ chunk: BaseCopyChunk) {
        pendingBytes += chunk.bytes.count
        if pendingBytes > maxPendingBytes, !paused {
            paused = true
            connection?.pauseReading()
        }
        writeJob { [receipt] () throws(BaseCopyFailure) in try receipt.append(chunk) } written: { [weak self] in
            guard let self else { return }
            pendingBytes -= chunk.bytes.count
            if paused, pendingBytes <= maxPendingBytes / 2 {
                paused = false
                connection?.resumeReading()
            }
        }
    }

    private func writeJob(_ job: @escaping @Sendable () throws(BaseCopyFailure) -> Void, written: @escaping @Sendable () -> Void = {}) {
        writes.run(job) { result in
            written()
            if case .failure(let failure) = result, self.writeFailure == nil {
                self.writeFailure = failure
                self.finish(.failure(failure))
            }
        }
    }

    private func checkSilence() {
        switch state {
        case .awaitingChallenge, .receiving: silentChecks += 1
        case .connecting, .awaitingStart, .finishing, .done: silentChecks = 0
        }
        guard silentChecks >= 6 else { return }
        finish(.failure(.connectionLost(
            "nothing from the primary for \(silenceLimit) in the middle of the copy: the connection is presumed dead",
            received: heldBytes, total: total)))
    }

    private func closed(_ reason: CloseReason) {
        connection = nil
        if case .finishing = state { return }
        finish(.failure(.connectionLost("connection closed: \(reason)", received: heldBytes, total: total)))
    }

    /// Reports once, after every queued write: the receipt then holds exactly what was received.
    private func finish(_ result: Result<BaseCopyEnd, BaseCopyFailure>) {
        if case .done = state { return }
        state = .done
        watchdog?.cancel()
        watchdog = nil
        peerCheck?.cancel()
        if case .failure(let failure) = result { connection?.close(.local("base copy failed: \(failure)")) }
        connection?.close(.local("base copy received"))
        connection = nil
        writes.run({ [receipt] () throws(BaseCopyFailure) in try receipt.closeOpen() }) { closed in
            if case .success = result, case .failure(let failure) = closed { return self.completion(.failure(failure)) }
            self.completion(result)
        }
    }
}

private func hexBytes(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
