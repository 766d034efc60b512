import Foundation

extension Thread {
    /// Starts a thread under `name`, set by the thread itself: Foundation on Linux does not apply a
    /// name given before `start()`, so every thread showed as a dispatch worker in `top -H`, `perf`
    /// and `gdb`, and in `Thread.current.name`. Linux keeps at most 15 bytes of a name.
    package static func start(named name: String, _ body: @escaping @Sendable () -> Void) {
        precondition(name.utf8.count <= 15, "thread name \(name) is longer than the 15 bytes Linux keeps")
        Thread {
            // On the current thread, Foundation passes the name to the kernel.
            Thread.current.name = name
            body()
        }.start()
    }
}
