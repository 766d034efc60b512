import CLibUV
import Transport

extension TransportError {
    /// Wraps a negative libuv status with its errno name (`uv_err_name`) and message.
    init(uvStatus status: Int32, operation: Operation, address: SocketAddress? = nil) {
        self.init(operation: operation, code: String(cString: uv_err_name(status)),
                  message: String(cString: uv_strerror(status)), address: address)
    }
}
