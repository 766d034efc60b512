import Testing
import Transport
@testable import TransportUV

/// After `pollBriefly()` the loop polls instead of sleeping, for its budget, then sleeps again.
@Suite struct PollTests {
    @Test func theLoopPollsForItsBudgetThenSleeps() throws {
        var configuration = TransportConfiguration()
        configuration.pollBudget = .milliseconds(50)
        let loop = try makeLoop(configuration)
        defer { shutdownCleanly(loop) }
        let asked = try #require(loop.executeAndWait { () -> (before: Bool, after: Bool, at: Duration) in
            let before = loop.isPolling
            let at = loop.now
            loop.pollBriefly()
            return (before, loop.isPolling, at)
        })
        #expect(!asked.before, "a new loop sleeps when idle")
        #expect(asked.after, "polling from the call on")

        let stopped = try #require(waitForPollingToEnd(loop))
        #expect(stopped - asked.at >= .milliseconds(50), "polling ended \(stopped - asked.at) after the call, within its budget")

        #expect(loop.executeAndWait { () -> Bool in
            loop.pollBriefly()
            return loop.isPolling
        } == true, "a later call polls again")
        #expect(waitForPollingToEnd(loop) != nil)
    }

    @Test func aZeroBudgetNeverPolls() throws {
        let loop = try makeLoop()
        defer { shutdownCleanly(loop) }
        #expect(loop.executeAndWait { () -> Bool in
            loop.pollBriefly()
            return loop.isPolling
        } == false)
    }

    /// The loop's time when it was first seen not polling; nil if it still polled after 30 s.
    private func waitForPollingToEnd(_ loop: UVEventLoop) -> Duration? {
        let end = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < end {
            if let now = loop.executeAndWait({ loop.isPolling ? nil : loop.now }), let now { return now }
        }
        return nil
    }
}
