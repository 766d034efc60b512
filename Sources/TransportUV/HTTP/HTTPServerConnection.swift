import Logging
import Transport

/// One client connection of an `HTTPServer`: parses requests one at a time, hands each to the handler,
/// writes the answer, then goes on with the next (already buffered, pipelined) request.
///
/// Loop-confined; `@unchecked Sendable` only so an `HTTPResponder` can carry it to the loop, where every
/// access happens.
final class HTTPServerConnection: @unchecked Sendable {
    private enum Phase {
        /// Reading a request (or waiting for one).
        case awaitingRequest
        /// The handler has the request; reading waits for its answer.
        case handling
        /// Answered, but the write queue is full: the next request waits for it to drain.
        case waitingForDrain
        case closed
    }

    private enum TimerKind { case idle, request }

    let eventLoop: any EventLoop
    private let connection: any Connection
    private let configuration: HTTPServerConfiguration
    private let handler: HTTPHandler
    private let onClosed: (HTTPServerConnection) -> Void
    private var logger: Logger
    private let parser: HTTPMessageParser
    private var input: [UInt8] = []
    private var phase = Phase.awaitingRequest
    private var requestNumber = 0
    private var keepAlive = true
    private var isParsing = false
    /// The limit the connection is under: idle between requests, the request's while one arrives, none
    /// while the handler works.
    private var limit: TimerKind?
    private lazy var deadline = LoopDeadline(eventLoop: eventLoop) { [unowned self] in limit.map(timedOut) }
    private let budget: HTTPRequestBudget
    /// Bytes of `budget` this connection's request in progress holds.
    private var reserved = 0
    /// Checks that a body in progress keeps its minimum rate, every `bodyRateWindow`.
    private var rateTimer: (any LoopTimer)?
    /// The body's progress at the last check: the request it belongs to and its bytes then.
    private var lastBodyProgress: (requestNumber: Int, bytes: Int)?

    init(connection: any Connection, eventLoop: any EventLoop, configuration: HTTPServerConfiguration, budget: HTTPRequestBudget,
         logger: Logger, handler: @escaping HTTPHandler, onClosed: @escaping (HTTPServerConnection) -> Void) {
        self.budget = budget
        self.connection = connection
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.handler = handler
        self.onClosed = onClosed
        self.logger = logger
        self.logger[metadataKey: "transport.peer"] = "\(connection.peerAddress)"
        parser = HTTPMessageParser(.request, maxHeaderBytes: configuration.maxHeaderBytes,
                                   maxBodyBytes: configuration.maxBodyBytes)
        parser.reserveBody = { [unowned self] bytes in
            guard budget.reserve(bytes) else { return false }
            reserved += bytes
            return true
        }
    }

    func start() {
        connection.start(ConnectionCallbacks(
            onRead: { [unowned self] in received($0) },
            onWritable: { [unowned self] in drained() },
            onClose: { [self] in closed($0) }))
        updateTimer()
        rateTimer = eventLoop.scheduleTimer(after: configuration.bodyRateWindow, repeating: configuration.bodyRateWindow) { [unowned self] in
            checkBodyRate()
        }
    }

    func close(_ reason: CloseReason) {
        connection.close(reason)
    }

    // MARK: - Requests in

    private func received(_ bytes: [UInt8]) {
        input += bytes
        if phase == .awaitingRequest {
            processInput()
        } else if input.count > configuration.maxHeaderBytes {
            // Enough pipelined bytes wait here; the rest can wait in the socket.
            connection.pauseReading()
        }
    }

    /// Parses and dispatches requests while the previous one is answered. A handler that answers at
    /// once re-enters through `respond`; the loop here picks up the next request instead of recursing.
    private func processInput() {
        guard !isParsing else { return }
        isParsing = true
        defer { isParsing = false }
        parsing: while phase == .awaitingRequest && !input.isEmpty {
            switch parser.parse(&input) {
            case .needMoreInput:
                break parsing
            case .message(let message):
                dispatch(message.request(peerAddress: connection.peerAddress), keepAlive: message.keepAlive)
            case .failed(let failure):
                reject(failure)
            }
        }
        updateTimer()
    }

    private func dispatch(_ request: HTTPRequest, keepAlive: Bool) {
        phase = .handling
        requestNumber += 1
        self.keepAlive = keepAlive
        updateTimer()
        // Its answer may come from another thread within microseconds (a commit, once durable).
        eventLoop.pollBriefly()
        handler(request, HTTPResponder(exchange: self, requestNumber: requestNumber))
    }

    // MARK: - Responses out

    func respond(_ response: HTTPResponse, to number: Int) {
        guard phase == .handling, number == requestNumber else {
            logger.debug("response dropped: connection closed first", metadata: ["http.status": "\(response.status)"])
            return
        }
        releaseBody()
        // The client's next request may follow within microseconds.
        eventLoop.pollBriefly()
        send(response, closing: !keepAlive, reason: "Connection: close")
        guard phase != .closed else { return }
        if connection.isWritable {
            continueReading()
        } else {
            phase = .waitingForDrain
        }
    }

    private func drained() {
        if phase == .waitingForDrain { continueReading() }
    }

    private func continueReading() {
        phase = .awaitingRequest
        connection.resumeReading()
        processInput()
    }

    private func reject(_ failure: HTTPMessageParser.Failure) {
        let response = switch failure {
        case .malformed(let detail):
            HTTPResponse.error(status: 400, error: "malformed request", detail: detail)
        case .headersTooLarge:
            HTTPResponse.error(status: 431, error: "request headers too large",
                               detail: "request line and headers exceed \(configuration.maxHeaderBytes) bytes")
        case .bodyTooLarge:
            HTTPResponse.error(status: 413, error: "request body too large",
                               detail: "body exceeds \(configuration.maxBodyBytes) bytes")
        case .overloaded:
            HTTPResponse.overloaded(
                "the node buffers \(budget.buffered) bytes of request bodies, its limit is \(budget.limit) (--max-buffered-request-bytes)")
        }
        logger.info("rejected request", metadata: ["http.status": "\(response.status)"])
        send(response, closing: true, reason: "rejected request (\(response.status))")
    }

    private func send(_ response: HTTPResponse, closing: Bool, reason: String) {
        _ = connection.write(response.serialized(closing: closing))
        if closing {
            phase = .closed
            updateTimer()
            connection.close(.local(reason), mode: .afterFlush)
        }
    }

    // MARK: - Timeouts and closing

    /// Idle between requests, a deadline for the request in progress, none while the handler works.
    private func updateTimer() {
        guard phase != .closed else {
            limit = nil
            return deadline.cancel()
        }
        let wanted: TimerKind? = phase == .awaitingRequest ? (parser.isMidMessage ? .request : .idle) : nil
        if limit == wanted { return }
        limit = wanted
        switch wanted {
        case .idle: deadline.set(after: configuration.idleTimeout)
        case .request: deadline.set(after: configuration.requestTimeout)
        case nil: deadline.clear()
        }
    }

    private func timedOut(_ kind: TimerKind) {
        limit = nil
        switch kind {
        case .idle:
            phase = .closed
            connection.close(.local("idle timeout"))
        case .request:
            let response = HTTPResponse.error(status: 408, error: "request timeout",
                                              detail: "request not complete within \(configuration.requestTimeout)")
            send(response, closing: true, reason: "request timeout")
        }
    }

    /// The request's body is answered (or abandoned): its room goes back to the budget.
    private func releaseBody() {
        budget.release(reserved)
        reserved = 0
    }

    /// Cuts a body that grew by less than the minimum over a whole window (408, closed), so that
    /// its reservation does not wait for the request timeout.
    private func checkBodyRate() {
        guard phase == .awaitingRequest, parser.isMidMessage, reserved > 0 || parser.bodyBytesReceived > 0 else {
            lastBodyProgress = nil
            return
        }
        let now = (requestNumber: requestNumber, bytes: parser.bodyBytesReceived)
        defer { lastBodyProgress = now }
        guard let last = lastBodyProgress, last.requestNumber == now.requestNumber else { return }
        let window = configuration.bodyRateWindow.components
        let minimum = Int(Double(configuration.minBodyBytesPerSecond) * (Double(window.seconds) + Double(window.attoseconds) / 1e18))
        guard now.bytes - last.bytes < minimum else { return }
        let response = HTTPResponse.error(
            status: 408, error: "request body too slow",
            detail: "the body grew by \(now.bytes - last.bytes) bytes in \(configuration.bodyRateWindow); the minimum is "
                + "\(configuration.minBodyBytesPerSecond) bytes per second")
        logger.info("cut a slow request body", metadata: ["http.status": "408"])
        send(response, closing: true, reason: "request body too slow")
    }

    private func closed(_ reason: CloseReason) {
        phase = .closed
        releaseBody()
        rateTimer?.cancel()
        rateTimer = nil
        updateTimer()
        logger.debug("HTTP connection closed", metadata: ["transport.reason": "\(reason)"])
        onClosed(self)
    }
}
