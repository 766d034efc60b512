import Foundation
import Testing

@testable import Repository

/// `ReleaseQueue` frees what it is given on its own thread, never on the caller's: the applier hands
/// it the tables a step replaced so as not to free them itself. (The race this type closes, a
/// caller's own reference outliving the queue's, cannot be forced from a test; moving the value in
/// rules it out by construction. What is checked here is that every value is freed, and on the
/// queue's thread.)
@Suite struct ReleaseQueueTests {
    /// Says which thread its deinit ran on.
    final class Tracked: Sendable {
        let freedOn: @Sendable (pthread_t) -> Void

        init(freedOn: @escaping @Sendable (pthread_t) -> Void) {
            self.freedOn = freedOn
        }

        deinit { freedOn(pthread_self()) }
    }

    /// The threads the values were freed on.
    final class Threads: @unchecked Sendable {
        private let lock = NSLock()
        private var threads: [pthread_t] = []

        func append(_ thread: pthread_t) { lock.withLock { threads.append(thread) } }
        var all: [pthread_t] { lock.withLock { threads } }
    }

    @Test func valuesAreFreedOnItsThreadNotTheCallers() {
        let queue = ReleaseQueue(label: "understudy.test-release")
        let caller = pthread_self()
        let threads = Threads()
        let freed = DispatchSemaphore(value: 0)
        let count = 500
        for _ in 0..<count {
            queue.release(Tracked { thread in
                threads.append(thread)
                freed.signal()
            })
        }
        for _ in 0..<count { #expect(freed.wait(timeout: .now() + 10) == .success) }
        let onCaller = threads.all.filter { pthread_equal($0, caller) != 0 }.count
        #expect(threads.all.count == count)
        #expect(onCaller == 0, "\(onCaller) of \(count) values were freed on the caller's thread")
    }
}
