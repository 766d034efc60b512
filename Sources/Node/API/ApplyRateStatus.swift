import Replication

/// `replication.apply` in a standby's `GET /status`: how fast it applies and when it will catch up.
public struct ApplyRateStatus: Codable, Sendable, Equatable {
    public var recordsPerSecond: Double
    /// Tranlog bytes applied per second (MB/s × 10⁶).
    public var bytesPerSecond: Double
    /// The primary's commits per second over the same window.
    public var primaryRecordsPerSecond: Double
    public var windowSeconds: Double
    /// Seconds until applied reaches the primary's seqno at these rates; 0 when caught up; null when
    /// not catching up (applying no faster than the primary commits).
    public var catchUpSeconds: Double?
    /// Since the standby started: tranlog bytes received, tranlog bytes and records applied.
    public var receivedBytesTotal: UInt64
    public var appliedBytesTotal: UInt64
    public var appliedRecordsTotal: UInt64

    private enum CodingKeys: String, CodingKey {
        case recordsPerSecond, bytesPerSecond, primaryRecordsPerSecond, windowSeconds, catchUpSeconds
        case receivedBytesTotal, appliedBytesTotal, appliedRecordsTotal
    }

    /// Writes `catchUpSeconds` as an explicit null, so a reader sees "not catching up", not a missing field.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(recordsPerSecond, forKey: .recordsPerSecond)
        try container.encode(bytesPerSecond, forKey: .bytesPerSecond)
        try container.encode(primaryRecordsPerSecond, forKey: .primaryRecordsPerSecond)
        try container.encode(windowSeconds, forKey: .windowSeconds)
        try container.encode(catchUpSeconds, forKey: .catchUpSeconds)
        try container.encode(receivedBytesTotal, forKey: .receivedBytesTotal)
        try container.encode(appliedBytesTotal, forKey: .appliedBytesTotal)
        try container.encode(appliedRecordsTotal, forKey: .appliedRecordsTotal)
    }
}

/// One entry of `replication.lagHistory`: the applied stage's lag at one second.
public struct LagSampleStatus: Codable, Sendable, Equatable {
    public var secondsBehind: Double?
    public var recordsBehind: UInt64
}

extension ApplyRateStatus {
    init(_ progress: ApplyProgress) {
        self.init(
            recordsPerSecond: progress.recordsPerSecond, bytesPerSecond: progress.bytesPerSecond,
            primaryRecordsPerSecond: progress.primaryRecordsPerSecond, windowSeconds: progress.windowSeconds,
            catchUpSeconds: progress.catchUpSeconds, receivedBytesTotal: progress.totals.receivedBytes,
            appliedBytesTotal: progress.totals.appliedBytes, appliedRecordsTotal: progress.totals.appliedRecords)
    }
}

extension LagSampleStatus {
    init(_ sample: ApplyProgress.Sample) {
        self.init(secondsBehind: sample.secondsBehind, recordsBehind: sample.recordsBehind)
    }
}
