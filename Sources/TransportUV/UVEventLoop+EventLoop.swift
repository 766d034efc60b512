import CLibUV
import Transport

/// The loop-thread operations of the contract; each creates a handle owned by this loop.
extension UVEventLoop {
    /// libuv's monotonic clock (`uv_hrtime`), which its timers also follow.
    public var now: Duration { .nanoseconds(Int64(uv_hrtime())) }

    public func scheduleTimer(
        after delay: Duration, repeating interval: Duration?, _ fire: @escaping () -> Void
    ) -> any LoopTimer {
        precondition(inEventLoop, "timers are created on the loop thread")
        return UVTimer(eventLoop: self, delay: delay, interval: interval, fire: fire)
    }

    public func listen(
        host: String, port: Int, onAccept: @escaping (any Connection) -> Void
    ) throws(TransportError) -> any Listener {
        precondition(inEventLoop, "listeners are created on the loop thread")
        let listener = try UVListener(eventLoop: self, address: SocketAddress(host: host, port: port), onAccept: onAccept)
        logger.debug("listening", metadata: ["transport.address": "\(listener.address)"])
        return listener
    }

    public func connect(
        host: String, port: Int, _ completion: @escaping (Result<any Connection, TransportError>) -> Void
    ) {
        precondition(inEventLoop, "connections are opened on the loop thread")
        let target = SocketAddress(host: host, port: port)
        let socketAddress: sockaddr_storage
        do {
            socketAddress = try sockaddr_storage(target)
        } catch {
            completion(.failure(error))
            return
        }
        UVConnection(eventLoop: self, peerAddress: target).connect(to: socketAddress, completion)
    }
}
