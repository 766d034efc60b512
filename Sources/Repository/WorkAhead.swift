import Dispatch
import Foundation

/// Elements made on another thread, at most `depth` ready ahead of the thread that takes them: the
/// work that needs no shared state (decoding, hashing objects for the digest) overlaps the work that
/// does (putting them into the table), so a replay or a load keeps both cores busy.
///
/// The producer gets an `emit` function; `emit` waits while `depth` elements are ready and returns
/// false once the consumer is gone (it stopped early and released this), and the producer should
/// then return. A producer's error reaches the consumer after every element emitted before it.
final class WorkAhead<Element: Sendable, Failure: Error>: @unchecked Sendable {
    private let channel: Channel

    init(depth: Int, on queue: DispatchQueue, produce: @escaping @Sendable (_ emit: (Element) -> Bool) throws(Failure) -> Void) {
        let channel = Channel(depth: depth)
        self.channel = channel
        queue.async {
            do throws(Failure) {
                try produce(channel.put)
                channel.finish(.success(()))
            } catch {
                channel.finish(.failure(error))
            }
        }
    }

    /// Stops a producer waiting to emit: nothing will take what it makes.
    deinit { channel.abandon() }

    /// The next element, waiting for it; nil after the last; the producer's error once the elements
    /// before it are taken.
    func next() throws(Failure) -> Element? {
        try channel.take()
    }

    /// What the two threads share, under one condition lock. The producer holds it (through its
    /// closure), not the consumer's handle, so that releasing the handle abandons the channel.
    private final class Channel: @unchecked Sendable {
        private let condition = NSCondition()
        private let depth: Int
        /// At most `depth` elements, so taking the first is cheap.
        private var ready: [Element] = []
        private var end: Result<Void, Failure>?
        private var abandoned = false

        init(depth: Int) {
            self.depth = max(depth, 1)
        }

        func put(_ element: Element) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while ready.count >= depth, !abandoned { condition.wait() }
            guard !abandoned else { return false }
            ready.append(element)
            condition.broadcast()
            return true
        }

        func finish(_ result: Result<Void, Failure>) {
            condition.lock()
            defer { condition.unlock() }
            end = result
            condition.broadcast()
        }

        func abandon() {
            condition.lock()
            defer { condition.unlock() }
            abandoned = true
            condition.broadcast()
        }

        func take() throws(Failure) -> Element? {
            condition.lock()
            defer { condition.unlock() }
            while ready.isEmpty, end == nil { condition.wait() }
            if !ready.isEmpty {
                condition.broadcast()
                return ready.removeFirst()
            }
            try end!.get()
            return nil
        }
    }
}
