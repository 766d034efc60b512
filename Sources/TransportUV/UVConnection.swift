import CLibUV
import Logging
import Transport

/// A TCP connection on a `UVEventLoop`. The handle's `data` holds a retain on this object from
/// `uv_tcp_init` until libuv's close callback.
///
/// On a loop with a `TLSContext`, TLS sits between the socket and the owner, who still sees plain
/// bytes: what is read goes through the session's input BIO and comes out decrypted; what is written
/// is encrypted into its output BIO, whose bytes are what `uv_write` sends. An accepted connection is
/// handed over at once (the handshake runs as its owner reads, bounded by the owner's timeouts); an
/// opened one once its handshake completed, so that a failed handshake is a failed connect.
final class UVConnection: Connection, UVResource {
    private enum State {
        case open
        /// Closing after the write queue empties; reads are no longer delivered.
        case draining(CloseReason)
        /// `uv_close` was called; the close callback will deliver the reason.
        case closing(CloseReason)
        case closed
    }

    let eventLoop: UVEventLoop
    private(set) var peerAddress: SocketAddress
    private(set) var queuedWriteBytes = 0
    private(set) var isWritable = true
    private var logger: Logger

    private let handle: UnsafeMutablePointer<uv_tcp_t> = .allocate(capacity: 1)
    private var state = State.open
    private var callbacks: ConnectionCallbacks?
    private var readingPaused = false
    /// Whether `uv_read_start` is in effect (starting twice is an error in libuv).
    private var isReading = false
    private var pendingWrites: [UnsafeMutableRawBufferPointer] = []
    private var writeInFlight = false
    private var flushRequested = false
    private var connectCompletion: ((Result<any Connection, TransportError>) -> Void)?
    private var tls: TLSSession?
    /// Plaintext written before the handshake completed (counted in `queuedWriteBytes`); encrypted once it has.
    private var plaintextBacklog: [[UInt8]] = []
    /// Plaintext that arrived before `start` (an opened connection reads from its handshake on).
    private var undelivered: [UInt8] = []
    private var handshakeCompleted = false
    /// Bounds an opened connection's handshake (`TransportConfiguration.tlsHandshakeTimeout`).
    private var handshakeTimer: (any LoopTimer)?

    /// Initializes the TCP handle; the caller then accepts or connects on it.
    init(eventLoop: UVEventLoop, peerAddress: SocketAddress) {
        self.eventLoop = eventLoop
        self.peerAddress = peerAddress
        logger = eventLoop.logger
        logger[metadataKey: "transport.peer"] = "\(peerAddress)"
        let status = uv_tcp_init(eventLoop.loop, handle)
        precondition(status == 0, "uv_tcp_init cannot fail on an initialized loop")
        handle.pointee.data = eventLoop.retainContext(self)
        eventLoop.register(self)
    }

    var stream: UnsafeMutablePointer<uv_stream_t> { UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self) }
    private var anyHandle: UnsafeMutablePointer<uv_handle_t> { UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self) }

    static func from(_ pointer: UnsafeMutableRawPointer?) -> UVConnection {
        Unmanaged<UVConnection>.fromOpaque(pointer!).takeUnretainedValue()
    }

    var isOpen: Bool {
        if case .open = state { return true }
        return false
    }

    // MARK: - Setup

    /// After `uv_accept` or a connect: learn the peer's real address, disable Nagle (request/response
    /// latency), and on a TLS loop start a session in `role`.
    func didEstablish(as role: TLSSession.Role) {
        uv_tcp_nodelay(handle, 1)
        if let address = peerName() {
            peerAddress = address
            logger[metadataKey: "transport.peer"] = "\(address)"
        }
        guard let context = eventLoop.tls else { return }
        tls = context.makeSession(role)
        if tls == nil {
            let reason = role == .server ? "this loop has no TLS certificate to serve with" : "OpenSSL could not make a TLS session"
            logger.error("TLS with \(peerAddress) impossible: \(reason)")
            close(.failed(TransportError(operation: .tls, code: "TLS", message: reason, address: peerAddress)))
        }
    }

    private func peerName() -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_tcp_getpeername(handle, $0, &length) }
        }
        return status == 0 ? SocketAddress(storage) : nil
    }

    func connect(to address: sockaddr_storage, _ completion: @escaping (Result<any Connection, TransportError>) -> Void) {
        connectCompletion = completion
        let request = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        // Unretained: the handle's own retain outlives the request (libuv cancels it before closing).
        request.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        var target = address
        let status = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                uv_tcp_connect(request, handle, $0) { request, status in
                    let connection = UVConnection.from(request!.pointee.data)
                    request!.deallocate()
                    connection.didConnect(status: status)
                }
            }
        }
        if status < 0 {
            request.deallocate()
            didConnect(status: status)
        }
    }

    private func didConnect(status: Int32) {
        guard let completion = connectCompletion else { return }
        if status < 0 {
            connectCompletion = nil
            let error = TransportError(uvStatus: status, operation: .connect, address: peerAddress)
            beginClose(.failed(error))
            completion(.failure(error))
            return
        }
        didEstablish(as: .client)
        guard isOpen, let tls else {
            connectCompletion = nil
            return completion(isOpen ? .success(self) : .failure(closedError))
        }
        // The ClientHello goes out now; the completion runs once the handshake completed (`handle`).
        let timeout = eventLoop.configuration.tlsHandshakeTimeout
        handshakeTimer = eventLoop.scheduleTimer(after: timeout) { [weak self] in
            self?.tlsFailed("no TLS handshake within \(timeout): is the peer a TLS server?")
        }
        handle(tls.handshake(), plaintext: [])
        if isOpen { startReading() }
    }

    private var closedError: TransportError {
        guard case .closing(let reason) = state else { preconditionFailure("asked why a connection closed that is not closing") }
        return TransportError(closedWhileConnecting: reason, address: peerAddress)
    }

    // MARK: - Reading

    func start(_ callbacks: ConnectionCallbacks) {
        precondition(eventLoop.inEventLoop && self.callbacks == nil, "start once, on the loop thread")
        guard isOpen else { return }
        self.callbacks = callbacks
        if !undelivered.isEmpty {
            let bytes = undelivered
            undelivered = []
            callbacks.onRead(bytes)
        }
        if isOpen { startReading() }
    }

    func pauseReading() {
        readingPaused = true
        stopReading()
    }

    func resumeReading() {
        readingPaused = false
        if isOpen && callbacks != nil { startReading() }
    }

    private func stopReading() {
        if isReading { uv_read_stop(stream) }
        isReading = false
    }

    private func startReading() {
        guard !readingPaused && !isReading else { return }
        let status = uv_read_start(stream, { handle, _, buffer in
            let readBuffer = UVEventLoop.from(handle!.pointee.loop).readBuffer
            buffer!.pointee = uv_buf_init(readBuffer.baseAddress!.assumingMemoryBound(to: CChar.self),
                                          UInt32(readBuffer.count))
        }, { stream, count, _ in
            UVConnection.from(stream!.pointee.data).didRead(count: count)
        })
        if status < 0 {
            beginClose(.failed(TransportError(uvStatus: status, operation: .read, address: peerAddress)))
            return
        }
        isReading = true
    }

    private func didRead(count: Int) {
        // A callback may have closed us mid-way through a batch of reads: deliver nothing more then.
        guard isOpen else { return }
        if count > 0 {
            let bytes = UnsafeRawBufferPointer(rebasing: eventLoop.readBuffer[..<count])
            if let tls {
                var plaintext: [UInt8] = []
                let progress = tls.receive(bytes, into: &plaintext)
                handle(progress, plaintext: plaintext)
            } else {
                callbacks?.onRead(Array(bytes))
            }
        } else if count == Int(UV_EOF.rawValue) {
            close(.peerClosed, mode: .afterFlush)
        } else if count < 0 {
            beginClose(.failed(TransportError(uvStatus: Int32(count), operation: .read, address: peerAddress)))
        }
        // count == 0 is EAGAIN: nothing to do.
    }

    // MARK: - TLS

    /// Acts on what the session made of the latest bytes: sends what it produced, completes a connect
    /// once established, delivers plaintext, closes on close_notify or failure.
    private func handle(_ progress: TLSSession.Progress, plaintext: [UInt8]) {
        sendTLSOutput()
        switch progress {
        case .handshaking:
            return
        case .failed(let reason):
            return tlsFailed(reason)
        case .established:
            if !handshakeCompleted { didCompleteHandshake() }
            deliver(plaintext)
        case .closedByPeer:
            deliver(plaintext)
            close(.peerClosed, mode: .afterFlush)
        }
    }

    private func didCompleteHandshake() {
        handshakeCompleted = true
        handshakeTimer?.cancel()
        handshakeTimer = nil
        logger.debug("TLS established", metadata: ["transport.peerCertificate": "\(tls?.peerCertificateSummary ?? "none")"])
        let backlog = plaintextBacklog
        plaintextBacklog = []
        for bytes in backlog {
            queuedWriteBytes -= bytes.count
            encrypt(bytes)
        }
        if let completion = connectCompletion, isOpen {
            connectCompletion = nil
            completion(.success(self))
        }
    }

    private func deliver(_ plaintext: [UInt8]) {
        guard !plaintext.isEmpty, isOpen else { return }
        if let callbacks { callbacks.onRead(plaintext) } else { undelivered += plaintext }
    }

    private func encrypt(_ plaintext: [UInt8]) {
        guard let tls, isOpen else { return }
        let progress = tls.send(plaintext)
        sendTLSOutput()
        if case .failed(let reason) = progress { tlsFailed(reason) }
    }

    /// Queues what the session wrote (handshake, records, alerts) for the socket.
    private func sendTLSOutput() {
        guard let tls, let bytes = tls.takeOutput() else { return }
        switch state {
        case .open, .draining:
            pendingWrites.append(bytes)
            queuedWriteBytes += bytes.count
            scheduleFlush()
        case .closing, .closed:
            bytes.deallocate()
        }
    }

    /// Logged by the accepting side (an operator's peer could not connect), once per peer host and
    /// reason per minute; an opening side's owner gets the reason through its completion or `onClose`.
    /// The alert, if any, is sent before closing.
    private func tlsFailed(_ reason: String) {
        let error = TransportError(operation: .tls, code: "TLS", message: reason, address: peerAddress)
        if tls?.role == .server,
            let line = eventLoop.tlsFailureLog.line(for: "TLS handshake with \(peerAddress) failed: \(reason)", kind: reason, peer: peerAddress)
        {
            logger.warning("\(line)")
        }
        close(.failed(error), mode: .afterFlush)
        if let completion = connectCompletion {
            connectCompletion = nil
            completion(.failure(error))
        }
    }

    // MARK: - Writing

    func write(_ bytes: [UInt8]) -> WriteResult {
        guard isOpen else { return .closed }
        guard isWritable else { return .rejected }
        guard !bytes.isEmpty else { return .queued }
        if let tls {
            if tls.isEstablished {
                encrypt(bytes)
            } else {
                plaintextBacklog.append(bytes)
                queuedWriteBytes += bytes.count
            }
            guard isOpen else { return .closed }
        } else {
            // Copied once into memory libuv may hold until the write completes; Swift arrays can't be pinned.
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
            bytes.withUnsafeBytes { copy.copyMemory(from: $0) }
            pendingWrites.append(copy)
            queuedWriteBytes += bytes.count
            scheduleFlush()
        }
        if queuedWriteBytes >= eventLoop.configuration.writeHighWaterBytes {
            isWritable = false
            return .queueFull
        }
        return .queued
    }

    private func scheduleFlush() {
        guard !flushRequested && !writeInFlight else { return }
        flushRequested = true
        eventLoop.requestFlush(self)
    }

    /// Issues one `uv_write` for everything queued. At most one write is in flight per connection; what
    /// is queued meanwhile goes out together when it completes.
    func flush() {
        flushRequested = false
        guard !writeInFlight, !pendingWrites.isEmpty else { return }
        switch state {
        case .open, .draining: break
        case .closing, .closed: return
        }
        let request = UVWriteRequest(connection: self, buffers: pendingWrites)
        pendingWrites = []
        writeInFlight = true
        let status = request.submit(on: stream, context: eventLoop.retainContext(request))
        if status < 0 {
            _ = eventLoop.releaseContext(request.context, as: UVWriteRequest.self)
            writeInFlight = false
            queuedWriteBytes -= request.byteCount
            beginClose(.failed(TransportError(uvStatus: status, operation: .write, address: peerAddress)))
        }
    }

    func didWrite(byteCount: Int, status: Int32) {
        writeInFlight = false
        queuedWriteBytes -= byteCount
        if status == UV_ECANCELED.rawValue { return }  // closing: the close callback follows
        if status < 0 {
            beginClose(.failed(TransportError(uvStatus: status, operation: .write, address: peerAddress)))
            return
        }
        if case .draining(let reason) = state, queuedWriteBytes == 0 {
            beginClose(reason)
            return
        }
        flush()
        if !isWritable && queuedWriteBytes <= eventLoop.configuration.writeLowWaterBytes && isOpen {
            isWritable = true
            callbacks?.onWritable()
        }
    }

    // MARK: - Closing

    func close(_ reason: CloseReason, mode: CloseMode) {
        switch (state, mode) {
        case (.closing, _), (.closed, _), (.draining, .afterFlush):
            return
        case (.open, .afterFlush) where tls != nil:
            // Plaintext still waiting for the handshake cannot be sent without it; close_notify can.
            dropPlaintextBacklog()
            tls?.shutdown()
            sendTLSOutput()
            if queuedWriteBytes > 0 {
                state = .draining(reason)
                stopReading()
            } else {
                beginClose(reason)
            }
        case (_, .afterFlush) where queuedWriteBytes > 0:
            state = .draining(reason)
            stopReading()
        case (_, .reset):
            beginClose(reason, reset: true)
        default:
            beginClose(reason)
        }
    }

    func closeForShutdown() {
        close(.local("event loop shutting down"), mode: .immediately)
    }

    /// Starts closing the handle; libuv first cancels the write in flight (`UV_ECANCELED`), then calls
    /// `didClose`. Writes not yet submitted are simply freed.
    private func beginClose(_ reason: CloseReason, reset: Bool = false) {
        switch state {
        case .closing, .closed: return
        case .open, .draining: break
        }
        state = .closing(reason)
        stopReading()
        freePendingWrites()
        handshakeTimer?.cancel()
        handshakeTimer = nil
        let onClosed: uv_close_cb = { handle in
            let connection = UVConnection.from(handle!.pointee.data)
            connection.didClose()
        }
        if !reset || uv_tcp_close_reset(handle, onClosed) != 0 {
            uv_close(anyHandle, onClosed)
        }
    }

    private func didClose() {
        guard case .closing(let reason) = state else { preconditionFailure("close callback without closing") }
        state = .closed
        logger.debug("connection closed", metadata: ["transport.reason": "\(reason)"])
        let closedCallbacks = callbacks
        callbacks = nil
        tls = nil
        undelivered = []
        // Closed during an opening handshake (the peer hung up, the loop shut down): the connect failed.
        if let completion = connectCompletion {
            connectCompletion = nil
            completion(.failure(TransportError(closedWhileConnecting: reason, address: peerAddress)))
        }
        eventLoop.unregister(self)
        let retained = handle.pointee.data
        handle.deallocate()
        closedCallbacks?.onClose(reason)
        _ = eventLoop.releaseContext(retained, as: UVConnection.self)
    }

    private func freePendingWrites() {
        for buffer in pendingWrites {
            queuedWriteBytes -= buffer.count
            buffer.deallocate()
        }
        pendingWrites = []
        dropPlaintextBacklog()
    }

    private func dropPlaintextBacklog() {
        for bytes in plaintextBacklog { queuedWriteBytes -= bytes.count }
        plaintextBacklog = []
    }
}
