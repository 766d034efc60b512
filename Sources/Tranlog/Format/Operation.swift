/// One change inside a commit.
public enum Operation: Hashable, Sendable {
    case put(key: [UInt8], value: [UInt8])
    case delete(key: [UInt8])

    public var key: [UInt8] {
        switch self {
        case .put(let key, _), .delete(let key): key
        }
    }

    /// The on-disk tag byte (frozen).
    enum Tag: UInt8 {
        case put = 1
        case delete = 2
    }

    /// Nil when the operation is within the limits, else why not.
    public var limitViolation: String? {
        if key.isEmpty { return "empty key" }
        if key.count > TranlogLimits.maxKeyBytes {
            return "key of \(key.count) bytes exceeds the limit of \(TranlogLimits.maxKeyBytes)"
        }
        if case .put(_, let value) = self, value.count > TranlogLimits.maxValueBytes {
            return "value of \(value.count) bytes exceeds the limit of \(TranlogLimits.maxValueBytes)"
        }
        return nil
    }
}
