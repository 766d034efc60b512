import Logging
import Tranlog
import Transport

/// The primary's side of one base copy (pg_basebackup's walsender): after a verified request, stages
/// a full backup, then sends `baseCopyStart`, the file in chunks and a signed `baseCopyEnd`, and
/// closes. The `LogShipper` that received the request hands the connection's events to it.
///
/// Loop-confined. A chunk is read only while the connection is writable (`pump`, resumed by
/// `onWritable`), so a slow standby pins at most the write queue's high-water mark plus one chunk.
/// The staged file is removed when the copy ends, however it ends. `@unchecked Sendable` only so the
/// staging thread can hand the result back through `loop.execute`.
final class BaseCopySender: @unchecked Sendable {
    struct Configuration: Sendable {
        /// Bytes read and sent per `baseCopyData` (at most `BaseCopyProtocol.maxChunkBytes`). Default 256 KiB.
        var chunkBytes = 256 * 1024
        /// A pause after each chunk; nil (the default) sends as fast as the connection takes them.
        /// Only tests set it (the `UNDERSTUDY_TEST_BASE_COPY_CHUNK_DELAY_MS` knob), to interrupt a copy.
        var chunkDelay: Duration?
    }

    private enum State {
        case staging
        case sending(StagedBackup, sent: UInt64)
        case done
    }

    private let connection: any Connection
    private let loop: any EventLoop
    private let source: any BaseCopySource
    private let key: ReplicationKey
    private let request: BaseCopyRequest
    private let configuration: Configuration
    private let logger: Logger
    private let onReject: (RejectReason) -> Void
    private var state = State.staging
    private var digest = BaseCopyDigest()
    private var delayTimer: (any LoopTimer)?

    init(
        connection: any Connection, loop: any EventLoop, source: any BaseCopySource, key: ReplicationKey, request: BaseCopyRequest,
        configuration: Configuration, logger: Logger, onReject: @escaping (RejectReason) -> Void
    ) {
        self.connection = connection
        self.loop = loop
        self.source = source
        self.key = key
        self.request = request
        var configuration = configuration
        configuration.chunkBytes = min(max(configuration.chunkBytes, 1), BaseCopyProtocol.maxChunkBytes)
        self.configuration = configuration
        self.logger = logger
        self.onReject = onReject
    }

    /// Stages the backup on the source's thread and resumes on the loop.
    func start() {
        logger.notice("base copy requested; staging a full backup")
        source.stage(for: request.sourceID) { [loop] result in
            loop.execute { self.staged(result) }
        }
    }

    /// The connection drained: send on.
    func writable() {
        pump()
    }

    /// The connection closed: drop the staged file (also a backup staged after the standby left).
    func closed() {
        delayTimer?.cancel()
        if case .sending(let backup, _) = state { source.discard(backup) }
        if case .staging = state { logger.info("base copy abandoned while staging: the standby left") }
        state = .done
    }

    private func staged(_ result: Result<StagedBackup, RejectReason>) {
        switch (state, result) {
        case (.staging, .success(let backup)) where connection.isOpen:
            logger.notice("base copy staged", metadata: ["bytes": "\(backup.byteCount)", "position": "\(backup.position)"])
            state = .sending(backup, sent: 0)
            send(.baseCopyStart(BaseCopyStart(repositoryID: backup.repositoryID, byteCount: backup.byteCount, compressed: backup.compressed)))
            pump()
        case (_, .success(let backup)):
            source.discard(backup)
        case (_, .failure(let reason)):
            state = .done
            onReject(reason)
        }
    }

    private func pump() {
        guard case .sending(let backup, var sent) = state, delayTimer == nil else { return }
        defer { if case .sending = state { state = .sending(backup, sent: sent) } }
        do throws(TranlogError) {
            while connection.isWritable, sent < backup.byteCount {
                let count = Int(min(UInt64(configuration.chunkBytes), backup.byteCount - sent))
                let bytes = try source.read(backup, at: sent, count: count)
                guard bytes.count == count else {
                    return fail("\(backup.path) ended at byte \(sent + UInt64(bytes.count)) of \(backup.byteCount)")
                }
                digest.update(bytes)
                send(.baseCopyData(BaseCopyChunk(offset: sent, bytes: bytes)))
                sent += UInt64(count)
                if let delay = configuration.chunkDelay { return pause(delay) }
            }
        } catch {
            return fail("cannot read \(backup.path): \(error)")
        }
        if sent == backup.byteCount, connection.isWritable { finish(backup) }
    }

    private func pause(_ delay: Duration) {
        delayTimer = loop.scheduleTimer(after: delay) { [weak self] in
            self?.delayTimer = nil
            self?.pump()
        }
    }

    private func finish(_ backup: StagedBackup) {
        let end = BaseCopyEnd(
            repositoryID: backup.repositoryID, position: backup.position, byteCount: digest.byteCount, crc: digest.crc,
            digest: digest.finalize())
        send(.baseCopyEnd(BaseCopyProof.sign(end, nonce: request.nonce, key: key)))
        logger.notice("base copy sent", metadata: ["bytes": "\(backup.byteCount)", "position": "\(backup.position)"])
        state = .done
        source.discard(backup)
        connection.close(.local("base copy sent"), mode: .afterFlush)
    }

    private func fail(_ why: String) {
        logger.error("base copy failed: \(why)")
        if case .sending(let backup, _) = state { source.discard(backup) }
        state = .done
        connection.close(.local("base copy failed: \(why)"), mode: .immediately)
    }

    private func send(_ message: ReplicationMessage) {
        switch connection.write(MessageCodec.encode(message)) {
        case .queued, .queueFull: break
        case .rejected, .closed: logger.debug("\(message.type) not sent: the connection is full or closing")
        }
    }
}
