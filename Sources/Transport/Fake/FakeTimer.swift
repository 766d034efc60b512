/// A timer of a `FakeEventLoop`: fires only when the test advances time past its deadline.
final class FakeTimer: LoopTimer {
    private unowned let loop: FakeEventLoop
    var deadline: Duration
    var sequence = 0
    let interval: Duration?
    let fire: () -> Void

    init(loop: FakeEventLoop, deadline: Duration, interval: Duration?, fire: @escaping () -> Void) {
        self.loop = loop
        self.deadline = deadline
        self.interval = interval
        self.fire = fire
    }

    func cancel() {
        loop.disarm(self)
    }
}
