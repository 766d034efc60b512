/// Latencies in log-linear buckets (HDR-style): exact below 128 ns, then 64 buckets per power of two,
/// so any percentile is within 1/64 (1.6 %) of the true value. Fixed memory however long the run,
/// and cheap enough to read a percentile several times a second for the progress line.
struct LatencyHistogram {
    private static let subBuckets = 64
    private var counts = [Int](repeating: 0, count: 128 + 57 * LatencyHistogram.subBuckets)
    private(set) var count = 0
    private(set) var maxNanoseconds: Int64 = 0

    mutating func record(_ latency: Duration) {
        let nanoseconds = max(latency.nanoseconds, 0)
        counts[Self.bucket(of: nanoseconds)] += 1
        count += 1
        maxNanoseconds = max(maxNanoseconds, nanoseconds)
    }

    /// Nearest rank; reports the top of the bucket, so it never understates. Zero when empty.
    func percentile(_ fraction: Double) -> Duration {
        guard count > 0 else { return .zero }
        let rank = max(1, Int((fraction * Double(count)).rounded(.up)))
        var seen = 0
        for (bucket, bucketCount) in counts.enumerated() where bucketCount > 0 {
            seen += bucketCount
            if seen >= rank { return .nanoseconds(min(Self.upperBound(of: bucket), maxNanoseconds)) }
        }
        return .nanoseconds(maxNanoseconds)
    }

    var maximum: Duration { .nanoseconds(maxNanoseconds) }

    /// Values below 128 have a bucket each; above, `value >> shift` lands in 64..<128.
    private static func bucket(of value: Int64) -> Int {
        guard value >= 128 else { return Int(value) }
        let shift = (Int64.bitWidth - value.leadingZeroBitCount) - 7
        return 128 + (shift - 1) * subBuckets + Int(value >> shift) - subBuckets
    }

    private static func upperBound(of bucket: Int) -> Int64 {
        guard bucket >= 128 else { return Int64(bucket) }
        let shift = (bucket - 128) / subBuckets + 1
        let mantissa = Int64((bucket - 128) % subBuckets + subBuckets)
        return ((mantissa + 1) << shift) - 1
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    var seconds: Double { Double(nanoseconds) / 1e9 }
    var milliseconds: Double { Double(nanoseconds) / 1e6 }
}
