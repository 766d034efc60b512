import Synchronization
import Transport

/// Answers one request, once, from any thread: the response hops onto the loop that owns the connection.
/// A handler may call it before returning or much later (say, after a commit's fsync on the writer
/// thread). If the connection closed meanwhile, the response is dropped.
public final class HTTPResponder: Sendable {
    private let exchange: HTTPServerConnection
    private let requestNumber: Int
    private let answered = Atomic(false)

    init(exchange: HTTPServerConnection, requestNumber: Int) {
        self.exchange = exchange
        self.requestNumber = requestNumber
    }

    public func respond(_ response: HTTPResponse) {
        precondition(!answered.exchange(true, ordering: .relaxed), "a request is answered once")
        let eventLoop = exchange.eventLoop
        if eventLoop.inEventLoop {
            exchange.respond(response, to: requestNumber)
        } else {
            eventLoop.execute { [exchange, requestNumber] in exchange.respond(response, to: requestNumber) }
        }
    }
}
