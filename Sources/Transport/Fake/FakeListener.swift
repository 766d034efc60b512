/// A listener of a `FakeEventLoop`: `connect` to its port on the same loop reaches it.
final class FakeListener: Listener {
    private unowned let loop: FakeEventLoop
    let address: SocketAddress
    let onAccept: (any Connection) -> Void

    init(loop: FakeEventLoop, address: SocketAddress, onAccept: @escaping (any Connection) -> Void) {
        self.loop = loop
        self.address = address
        self.onAccept = onAccept
    }

    func close() {
        loop.removeListener(port: address.port)
    }
}
