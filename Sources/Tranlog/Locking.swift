import Foundation

extension NSLocking {
    /// `withLock` that keeps typed throws (Foundation's erases them to `any Error`).
    package func locked<Value, Failure: Error>(_ body: () throws(Failure) -> Value) throws(Failure) -> Value {
        lock()
        defer { unlock() }
        return try body()
    }
}
