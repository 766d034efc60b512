import Transport

/// One request and its response over a new connection. Loop-confined: created and run on the loop.
/// It finishes exactly once — with the response, or with why there is none — then closes.
final class ClientExchange {
    typealias Completion = @Sendable (Result<ClientResponse, NodeClientError>) -> Void

    private let loop: any EventLoop
    private let address: SocketAddress
    private let request: [UInt8]
    private let completion: Completion
    private var connection: (any Connection)?
    private var timer: (any LoopTimer)?
    private var received: [UInt8] = []
    private var finished = false

    init(loop: any EventLoop, address: SocketAddress, request: [UInt8], completion: @escaping Completion) {
        self.loop = loop
        self.address = address
        self.request = request
        self.completion = completion
    }

    /// `timeout` bounds the whole exchange: connecting, sending, and the node's answer.
    func start(timeout: Duration) {
        timer = loop.scheduleTimer(after: timeout) { [self] in finish(.failure(.timedOut(address, timeout))) }
        loop.connect(host: address.host, port: address.port) { [self] result in
            switch result {
            case .failure(let error):
                finish(.failure(.cannotConnect(address, error)))
            case .success(let connection):
                connected(connection)
            }
        }
    }

    private func connected(_ connection: any Connection) {
        guard !finished else { return connection.close(.local("the exchange timed out while connecting")) }
        self.connection = connection
        connection.start(ConnectionCallbacks(
            onRead: { [self] in read($0) },
            onClose: { [self] in finish(.failure(.connectionLost(address, reason: $0.description))) }))
        // One write: the queue takes it whole (only a write made while it is full is refused).
        _ = connection.write(request)
    }

    private func read(_ bytes: [UInt8]) {
        received += bytes
        switch ResponseParser.parse(received) {
        case .needMoreBytes: break
        case .complete(let response): finish(.success(response))
        case .malformed(let detail): finish(.failure(.malformedResponse(address, detail: detail)))
        }
    }

    private func finish(_ result: Result<ClientResponse, NodeClientError>) {
        guard !finished else { return }
        finished = true
        timer?.cancel()
        timer = nil
        connection?.close(.local("exchange finished"))
        connection = nil
        completion(result)
    }
}
