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

    /// Nil when the operation, the `index`th of its commit, is within the limits, else why not. Reads
    /// the lengths through one switch: the `key` getter and a second pattern match each copied the
    /// arrays (a retain and a release per operation), about 3% of a standby's CPU while it decoded a
    /// catch-up.
    func limitViolation(asOperation index: Int) -> String? {
        switch self {
        case .put(let key, let value): Self.limitViolation(ofOperation: index, keyBytes: key.count, valueBytes: value.count)
        case .delete(let key): Self.limitViolation(ofOperation: index, keyBytes: key.count, valueBytes: nil)
        }
    }

    /// Why operation `index` of a commit, with a key of `keyBytes` and a value of `valueBytes` (nil:
    /// a delete), breaks a limit; nil within them.
    static func limitViolation(ofOperation index: Int, keyBytes: Int, valueBytes: Int?) -> String? {
        limitViolation(keyBytes: keyBytes, valueBytes: valueBytes).map { "operation \(index): \($0)" }
    }

    private static func limitViolation(keyBytes: Int, valueBytes: Int?) -> String? {
        if keyBytes == 0 { return "empty key" }
        if keyBytes > TranlogLimits.maxKeyBytes {
            return "key of \(keyBytes) bytes exceeds the limit of \(TranlogLimits.maxKeyBytes)"
        }
        if let valueBytes, valueBytes > TranlogLimits.maxValueBytes {
            return "value of \(valueBytes) bytes exceeds the limit of \(TranlogLimits.maxValueBytes)"
        }
        return nil
    }
}
