import Foundation

extension Thread {
    /// Starts a thread under `name`, set by the thread itself: Foundation on Linux does not apply a
    /// name given before `start()`, so every thread showed as a dispatch worker in `top -H`, `perf`
    /// and `gdb`, and in `Thread.current.name`. Linux keeps at most 15 bytes of a name.
    package static func start(named name: String, _ body: @escaping @Sendable () -> Void) {
        precondition(name.utf8.count <= 15, "thread name \(name) is longer than the 15 bytes Linux keeps")
        // Foundation's `name` setter names a thread only once `start()` has stored the thread's
        // handle, on the creating thread: a new thread that got there first kept its creator's name
        // (the writer's completion thread did, in one run of its test in six). It waits for that.
        let started = DispatchSemaphore(value: 0)
        Thread {
            started.wait()
            // On the current thread, Foundation passes the name to the kernel.
            Thread.current.name = name
            body()
        }.start()
        started.signal()
    }
}
