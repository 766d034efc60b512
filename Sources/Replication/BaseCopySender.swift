import Logging
import Tranlog
import Transport

/// The primary's side of one base copy (pg_basebackup's walsender): after a verified request, pins a
/// checkpoint (or takes back the pin a resuming standby names), then sends `baseCopyStart`, each
/// pinned file's bytes in chunks straight from the primary's own files, and a signed `baseCopyEnd`,
/// and closes. Nothing is staged. The `LogShipper` that received the request hands the connection's
/// events to it.
///
/// Loop-confined; every file read (and the CRC, digest and encoding of a chunk) runs on the
/// shipper's reader queue, one chunk at a time, and the next is read only while the connection is
/// writable (resumed by `onWritable`): a slow standby pins at most the write queue's high-water mark
/// plus one chunk. The pin is released when the copy is sent, or kept for a resume when it is cut.
/// `@unchecked Sendable` only so reader work can hand results back through `loop.execute`.
final class BaseCopySender: @unchecked Sendable {
    struct Configuration: Sendable {
        /// Bytes read and sent per `baseCopyData` (at most `BaseCopyProtocol.maxChunkBytes`). Default 256 KiB.
        var chunkBytes = 256 * 1024
        /// A pause after each chunk; nil (the default) sends as fast as the connection takes them.
        /// Only tests set it (the `UNDERSTUDY_TEST_BASE_COPY_CHUNK_DELAY_MS` knob), to interrupt a copy.
        var chunkDelay: Duration?
    }

    private enum State {
        case pinning
        case sending(BaseCopyPin, BaseCopyStreamer)
        case done
    }

    private let connection: any Connection
    private let loop: any EventLoop
    private let reads: OffLoopFiles
    private let source: any BaseCopySource
    private let key: ReplicationKey
    private let request: BaseCopyRequest
    private let configuration: Configuration
    private let logger: Logger
    private let onReject: (RejectReason) -> Void
    private var state = State.pinning
    private var reading = false
    private var delayTimer: (any LoopTimer)?

    init(
        connection: any Connection, loop: any EventLoop, reads: OffLoopFiles, source: any BaseCopySource, key: ReplicationKey,
        request: BaseCopyRequest, configuration: Configuration, logger: Logger, onReject: @escaping (RejectReason) -> Void
    ) {
        self.connection = connection
        self.loop = loop
        self.reads = reads
        self.source = source
        self.key = key
        self.request = request
        var configuration = configuration
        configuration.chunkBytes = min(max(configuration.chunkBytes, 1), BaseCopyProtocol.maxChunkBytes)
        self.configuration = configuration
        self.logger = logger
        self.onReject = onReject
    }

    /// Pins on the reader queue and resumes on the loop.
    func start() {
        logger.notice("base copy requested; pinning a checkpoint", metadata: ["resuming": "\(request.resume != nil)"])
        reading = true
        reads.run({ [source, request] () throws(Never) in source.pin(for: request.sourceID, resuming: request.resume?.pinID) }) { result in
            self.reading = false
            if case .success(let outcome) = result { self.pinned(outcome) }
        }
    }

    /// The connection drained: send on.
    func writable() {
        pump()
    }

    /// The connection closed: the pin is kept a while for the standby to come back and resume.
    func closed() {
        delayTimer?.cancel()
        if case .sending(let pin, let streamer) = state {
            logger.notice("base copy cut after \(streamer.sentBytes) bytes; its pin is kept for a resume")
            release(pin, completed: false)
        }
        if case .pinning = state { logger.info("base copy abandoned while pinning: the standby left") }
        state = .done
    }

    private func pinned(_ result: Result<BaseCopyPin, RejectReason>) {
        switch (state, result) {
        case (.pinning, .success(let pin)) where connection.isOpen:
            let held = heldBytes(of: pin)
            let streamer = BaseCopyStreamer(pin: pin, source: source, held: held, chunkBytes: configuration.chunkBytes)
            logger.notice(
                held == nil ? "base copy: sending the pinned files" : "base copy: resuming the pinned files",
                metadata: ["files": "\(pin.files.count)", "bytes": "\(streamer.remainingBytes)", "position": "\(pin.position)"])
            state = .sending(pin, streamer)
            send(.baseCopyStart(BaseCopyStart(repositoryID: pin.repositoryID, pinID: pin.id, files: pin.files)))
            pump()
        case (_, .success(let pin)):
            release(pin, completed: false)
        case (_, .failure(let reason)):
            state = .done
            onReject(reason)
        }
    }

    /// What the standby holds of `pin`'s files, when it resumes this very pin (nil: send everything).
    private func heldBytes(of pin: BaseCopyPin) -> [UInt64]? {
        guard let resume = request.resume else { return nil }
        guard resume.pinID == pin.id else {
            logger.notice("base copy: the pin the standby resumes is no longer held (this primary restarted, or it lapsed); a new copy")
            return nil
        }
        guard resume.held.count == pin.files.count, zip(resume.held, pin.files).allSatisfy({ $0 <= $1.size }) else {
            logger.warning("base copy: the standby's resume does not fit the pin's files; sending everything")
            return nil
        }
        return resume.held
    }

    private func pump() {
        guard case .sending(let pin, let streamer) = state, !reading, delayTimer == nil, connection.isWritable else { return }
        reading = true
        reads.run({ () throws(BaseCopyStreamer.Failure) in try streamer.next() }) { result in
            self.reading = false
            guard case .sending = self.state else { return }
            switch result {
            case .success(.chunk(let message)):
                self.write(message)
                if let delay = self.configuration.chunkDelay { return self.pause(delay) }
                self.pump()
            case .success(.finished(let digests)):
                self.finish(pin, digests: digests, sentBytes: streamer.sentBytes)
            case .failure(let failure):
                self.fail(failure.description, pin: pin)
            }
        }
    }

    private func pause(_ delay: Duration) {
        delayTimer = loop.scheduleTimer(after: delay) { [weak self] in
            self?.delayTimer = nil
            self?.pump()
        }
    }

    private func finish(_ pin: BaseCopyPin, digests: [[UInt8]], sentBytes: UInt64) {
        let end = BaseCopyEnd(repositoryID: pin.repositoryID, position: pin.position, pinID: pin.id, digests: digests)
        send(.baseCopyEnd(BaseCopyProof.sign(end, files: pin.files, nonce: request.nonce, key: key)))
        logger.notice(
            "base copy sent", metadata: ["bytes": "\(sentBytes)", "files": "\(pin.files.count)", "position": "\(pin.position)"])
        state = .done
        release(pin, completed: true)
        connection.close(.local("base copy sent"), mode: .afterFlush)
    }

    private func fail(_ why: String, pin: BaseCopyPin) {
        logger.error("base copy failed: \(why)")
        state = .done
        release(pin, completed: true)
        connection.close(.local("base copy failed: \(why)"), mode: .immediately)
    }

    /// After any read in flight: the source may unpin (file I/O-free, but it takes the repository's locks).
    private func release(_ pin: BaseCopyPin, completed: Bool) {
        reads.afterFileWork { [source] in source.release(pin, completed: completed) }
    }

    private func send(_ message: ReplicationMessage) {
        write(MessageCodec.encode(message))
    }

    private func write(_ bytes: [UInt8]) {
        switch connection.write(bytes) {
        case .queued, .queueFull: break
        case .rejected, .closed: logger.debug("a base-copy message was not sent: the connection is full or closing")
        }
    }
}

/// Reads a pin's files in list order, a chunk at a time, with each file's SHA-256 (a resumed file's
/// held prefix is read and hashed, not sent). Touched only on the reader queue, one call at a time.
final class BaseCopyStreamer: @unchecked Sendable {
    enum Step: Sendable {
        /// An encoded `baseCopyData`, ready for the socket.
        case chunk([UInt8])
        /// Every file sent: their SHA-256s, in list order.
        case finished([[UInt8]])
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let pin: BaseCopyPin
    private let source: any BaseCopySource
    private let held: [UInt64]
    private let chunkBytes: Int
    private var digests: [BaseCopyDigest]
    private var index = 0
    /// Bytes sent on this connection (for the log; a resume sends fewer than the total).
    private(set) var sentBytes: UInt64 = 0
    let remainingBytes: UInt64

    init(pin: BaseCopyPin, source: any BaseCopySource, held: [UInt64]?, chunkBytes: Int) {
        self.pin = pin
        self.source = source
        self.held = held ?? Array(repeating: 0, count: pin.files.count)
        self.chunkBytes = chunkBytes
        digests = Array(repeating: BaseCopyDigest(), count: pin.files.count)
        remainingBytes = zip(pin.files, self.held).reduce(0) { $0 + $1.0.size - $1.1 }
    }

    func next() throws(Failure) -> Step {
        while index < pin.files.count {
            let file = pin.files[index]
            let done = digests[index].byteCount
            guard done < file.size else {
                index += 1
                continue
            }
            let count = Int(min(UInt64(chunkBytes), file.size - done, done < held[index] ? held[index] - done : .max))
            let bytes = try read(file, at: done, count: count)
            digests[index].update(bytes)
            // The standby holds these already (a resume): hashed for the end's digest, not sent.
            if done < held[index] { continue }
            sentBytes += UInt64(count)
            return .chunk(MessageCodec.encode(.baseCopyData(BaseCopyChunk(file: UInt32(index), offset: done, bytes: bytes))))
        }
        return .finished(digests.map { $0.finalize() })
    }

    private func read(_ file: BaseCopyFile, at offset: UInt64, count: Int) throws(Failure) -> [UInt8] {
        let bytes: [UInt8]
        do { bytes = try source.read(pin, file: index, at: offset, count: count) } catch {
            throw Failure(description: "cannot read \(file.path): \(error)")
        }
        guard bytes.count == count else {
            throw Failure(description: "\(file.path) ended at byte \(offset + UInt64(bytes.count)), before the \(file.size) bytes pinned")
        }
        return bytes
    }
}
