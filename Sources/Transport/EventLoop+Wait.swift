extension EventLoop {
    /// Runs `body` on the loop thread and returns its result to the calling thread, which blocks.
    /// For setup from a non-loop thread (start a server, read its port). Not on the loop thread itself,
    /// and not on a loop nobody runs (the fake): both would wait forever, hence the precondition and the
    /// timeout. Returns nil if the loop did not run `body` within `timeout` (it stopped).
    public func executeAndWait<Result: Sendable>(
        timeout: Duration = .seconds(30), _ body: @escaping @Sendable () -> Result
    ) -> Result? {
        precondition(!inEventLoop, "executeAndWait on the loop thread would deadlock")
        let outcome = Locked<Result?>(nil)
        execute { outcome.withLockNotifying { $0 = body() } }
        _ = outcome.wait(timeout: timeout) { $0 != nil }
        return outcome.withLock { $0 }
    }
}
