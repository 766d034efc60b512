import Dispatch
import Foundation

/// Frees values whose deallocation takes long (a replaced table's copied nodes, an applied batch's
/// frames and objects) on a thread of its own, off the applier. A value is moved in: the caller
/// keeps no reference, so the last release, and with it the freeing, happens here. Capturing the
/// value in the dispatched closure instead left the caller one reference of its own, and whenever
/// the queue ran first the caller's was the last: a catch-up's applier still freed tables.
final class ReleaseQueue: @unchecked Sendable {
    private let queue: DispatchQueue
    private let lock = NSLock()
    private var pending: [any Sendable] = []

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func release(_ value: consuming some Sendable) {
        lock.lock()
        pending.append(consume value)
        lock.unlock()
        queue.async { self.freePending() }
    }

    private func freePending() {
        lock.lock()
        var values: [any Sendable] = []
        swap(&values, &pending)
        lock.unlock()
        values.removeAll()
    }
}
