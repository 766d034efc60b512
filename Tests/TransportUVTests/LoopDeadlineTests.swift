import Testing
import Transport
@testable import TransportUV

/// The deadline behind every keep-alive connection's idle and request timeouts, on fake time.
@Suite struct LoopDeadlineTests {
    @Test func aDeadlineMovedOnEveryRequestArmsOneTimerPerPeriod() {
        let loop = FakeEventLoop()
        var expiries: [Duration] = []
        let deadline = LoopDeadline(eventLoop: loop) { expiries.append(loop.now) }
        let armedBefore = loop.timersArmed
        // A request every 10 ms for 1 s, each moving a 60 s deadline.
        for _ in 0..<100 {
            deadline.set(after: .seconds(60))
            loop.advanceTime(by: .milliseconds(10))
        }
        #expect(loop.timersArmed - armedBefore == 1, "one timer for 100 moves")
        loop.advanceTime(by: .seconds(59) + .milliseconds(980))
        #expect(expiries.isEmpty, "the first timer fired early and armed again for the rest")
        loop.advanceTime(by: .milliseconds(10))
        #expect(expiries == [.seconds(60) + .milliseconds(990)], "60 s after the last move")
        #expect(loop.timersArmed - armedBefore == 2)
    }

    @Test func anEarlierDeadlineReplacesALaterTimer() {
        let loop = FakeEventLoop()
        var expiries: [Duration] = []
        let deadline = LoopDeadline(eventLoop: loop) { expiries.append(loop.now) }
        deadline.set(after: .seconds(60))
        deadline.set(after: .seconds(5))
        loop.advanceTime(by: .seconds(120))
        #expect(expiries == [.seconds(5)], "once, at the earlier deadline")
    }

    @Test func aClearedOrCancelledDeadlineNeverExpires() {
        let loop = FakeEventLoop()
        var expiries = 0
        let deadline = LoopDeadline(eventLoop: loop) { expiries += 1 }
        deadline.set(after: .seconds(1))
        deadline.clear()
        loop.advanceTime(by: .seconds(2))
        deadline.set(after: .seconds(1))
        deadline.cancel()
        loop.advanceTime(by: .seconds(2))
        #expect(expiries == 0)
        deadline.set(after: .seconds(1))
        loop.advanceTime(by: .seconds(1))
        #expect(expiries == 1, "set again after a cancel, it works")
    }
}
