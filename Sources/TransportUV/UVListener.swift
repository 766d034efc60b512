import CLibUV
import Logging
import Transport

/// A listening TCP socket on a `UVEventLoop`; the handle's `data` holds a retain until closed.
final class UVListener: Listener, UVResource {
    private let eventLoop: UVEventLoop
    private let handle: UnsafeMutablePointer<uv_tcp_t> = .allocate(capacity: 1)
    private let onAccept: (any Connection) -> Void
    private(set) var address: SocketAddress
    private var isClosing = false

    /// Binds and listens; on failure the handle is closed again and the error names the address.
    init(eventLoop: UVEventLoop, address: SocketAddress, onAccept: @escaping (any Connection) -> Void)
        throws(TransportError)
    {
        self.eventLoop = eventLoop
        self.address = address
        self.onAccept = onAccept
        var socketAddress = try sockaddr_storage(address)
        precondition(uv_tcp_init(eventLoop.loop, handle) == 0, "uv_tcp_init cannot fail on an initialized loop")
        handle.pointee.data = eventLoop.retainContext(self)
        eventLoop.register(self)
        do {
            try bind(&socketAddress)
            try listen()
        } catch {
            close()
            throw error
        }
        self.address = boundAddress() ?? address
    }

    private var stream: UnsafeMutablePointer<uv_stream_t> { UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self) }

    private func bind(_ socketAddress: inout sockaddr_storage) throws(TransportError) {
        let status = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_tcp_bind(handle, $0, 0) }
        }
        if status < 0 { throw TransportError(uvStatus: status, operation: .bind, address: address) }
    }

    /// libuv may defer a bind error (EADDRINUSE) to `uv_listen`, so both name the address.
    private func listen() throws(TransportError) {
        let status = uv_listen(stream, Int32(eventLoop.configuration.listenBacklog)) { server, status in
            Unmanaged<UVListener>.fromOpaque(server!.pointee.data).takeUnretainedValue().accept(status: status)
        }
        if status < 0 { throw TransportError(uvStatus: status, operation: .listen, address: address) }
    }

    private func boundAddress() -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_tcp_getsockname(handle, $0, &length) }
        }
        return status == 0 ? SocketAddress(storage) : nil
    }

    private func accept(status: Int32) {
        guard !isClosing else { return }
        if status < 0 {
            let error = TransportError(uvStatus: status, operation: .accept, address: address)
            eventLoop.logger.warning("accept failed", metadata: ["transport.error": "\(error)"])
            return
        }
        let connection = UVConnection(eventLoop: eventLoop, peerAddress: address)
        let accepted = uv_accept(stream, connection.stream)
        guard accepted == 0 else {
            connection.close(.failed(TransportError(uvStatus: accepted, operation: .accept, address: address)))
            return
        }
        connection.didEstablish(as: .server)
        onAccept(connection)
    }

    func close() {
        guard !isClosing else { return }
        isClosing = true
        uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) { handle in
            let eventLoop = UVEventLoop.from(handle!.pointee.loop)
            let listener = eventLoop.releaseContext(handle!.pointee.data, as: UVListener.self)
            eventLoop.unregister(listener)
            listener.handle.deallocate()
        }
    }

    func closeForShutdown() {
        close()
    }
}
