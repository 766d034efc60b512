import CLibUV
import Transport

extension TransportError {
    /// Wraps a negative libuv status with its errno name (`uv_err_name`) and message.
    init(uvStatus status: Int32, operation: Operation, address: SocketAddress? = nil) {
        self.init(operation: operation, code: String(cString: uv_err_name(status)),
                  message: String(cString: uv_strerror(status)), address: address)
    }

    /// A connect that ended with its connection closed before it was handed over (during TLS's handshake).
    init(closedWhileConnecting reason: CloseReason, address: SocketAddress) {
        switch reason {
        case .failed(let error): self = error
        case .peerClosed: self.init(operation: .tls, code: "ECONNRESET", message: "the peer closed the connection during the TLS handshake", address: address)
        case .local(let why): self.init(operation: .connect, code: "ECANCELED", message: why, address: address)
        }
    }
}
