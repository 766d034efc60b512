import CLibUV
import Transport

/// A libuv timer; a one-shot timer closes its handle after firing, a cancelled one at once.
final class UVTimer: LoopTimer, UVResource {
    private let eventLoop: UVEventLoop
    private let handle: UnsafeMutablePointer<uv_timer_t> = .allocate(capacity: 1)
    private let fire: () -> Void
    private let isRepeating: Bool
    private var isClosing = false

    init(eventLoop: UVEventLoop, delay: Duration, interval: Duration?, fire: @escaping () -> Void) {
        self.eventLoop = eventLoop
        self.fire = fire
        isRepeating = interval != nil
        precondition(uv_timer_init(eventLoop.loop, handle) == 0, "uv_timer_init cannot fail on an initialized loop")
        handle.pointee.data = eventLoop.retainContext(self)
        eventLoop.register(self)
        uv_timer_start(handle, { handle in
            Unmanaged<UVTimer>.fromOpaque(handle!.pointee.data).takeUnretainedValue().didFire()
        }, Self.milliseconds(delay), interval.map { max(1, Self.milliseconds($0)) } ?? 0)
    }

    /// libuv counts whole milliseconds; round up so a timer never fires early.
    private static func milliseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = max(duration, .zero).components
        return UInt64(seconds) * 1000 + UInt64((attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }

    private func didFire() {
        guard !isClosing else { return }
        if !isRepeating { cancel() }
        fire()
    }

    func cancel() {
        guard !isClosing else { return }
        isClosing = true
        uv_timer_stop(handle)
        uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) { handle in
            let eventLoop = UVEventLoop.from(handle!.pointee.loop)
            let timer = eventLoop.releaseContext(handle!.pointee.data, as: UVTimer.self)
            eventLoop.unregister(timer)
            timer.handle.deallocate()
        }
    }

    func closeForShutdown() {
        cancel()
    }
}
