import Transport
import TransportUV

extension UVEventLoop {
    /// Runs `body` on the loop and returns its result, from any thread: directly when already on
    /// the loop (HTTP handlers), else waiting for it. Nil only when the loop stopped meanwhile.
    func onLoop<Value: Sendable>(_ body: @escaping @Sendable () -> Value) -> Value? {
        inEventLoop ? body() : executeAndWait(body)
    }
}
