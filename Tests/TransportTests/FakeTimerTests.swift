import Testing
import Transport

@Suite struct FakeTimerTests {
    @Test func timersFireInDeadlineOrderWhenTimeAdvances() {
        let loop = FakeEventLoop()
        var fired: [String] = []
        _ = loop.scheduleTimer(after: .milliseconds(30)) { fired.append("c") }
        _ = loop.scheduleTimer(after: .milliseconds(10)) { fired.append("a") }
        _ = loop.scheduleTimer(after: .milliseconds(20)) { fired.append("b") }
        loop.advanceTime(by: .milliseconds(5))
        #expect(fired.isEmpty)
        loop.advanceTime(by: .milliseconds(20))
        #expect(fired == ["a", "b"])
        loop.advanceTime(by: .milliseconds(5))
        #expect(fired == ["a", "b", "c"])
    }

    @Test func timerSeesItsOwnDeadlineAsNow() {
        let loop = FakeEventLoop()
        var seen: [Duration] = []
        _ = loop.scheduleTimer(after: .milliseconds(10)) { seen.append(loop.now) }
        loop.advanceTime(by: .seconds(1))
        #expect(seen == [.milliseconds(10)])
        #expect(loop.now == .seconds(1))
    }

    @Test func cancelledTimerNeverFires() {
        let loop = FakeEventLoop()
        var fired = 0
        let timer = loop.scheduleTimer(after: .milliseconds(10)) { fired += 1 }
        timer.cancel()
        loop.advanceTime(by: .seconds(1))
        #expect(fired == 0)
    }

    @Test func repeatingTimerFiresEveryIntervalUntilCancelled() {
        let loop = FakeEventLoop()
        var firedAt: [Duration] = []
        var timer: (any LoopTimer)?
        timer = loop.scheduleTimer(after: .milliseconds(10), repeating: .milliseconds(10)) {
            firedAt.append(loop.now)
            if firedAt.count == 3 { timer?.cancel() }
        }
        loop.advanceTime(by: .milliseconds(100))
        #expect(firedAt == [.milliseconds(10), .milliseconds(20), .milliseconds(30)])
    }

    @Test func executeFromAnotherThreadRunsAtNextRun() async {
        let loop = FakeEventLoop()
        let ran = Locked(false)
        await Task.detached { loop.execute { ran.withLock { $0 = true } } }.value
        #expect(ran.withLock { $0 } == false)
        loop.run()
        #expect(ran.withLock { $0 } == true)
    }
}
