/// `retention` in a primary's `GET /status`: how much tranlog is kept for standbys and how long
/// until `--max-retained-mbytes` is reached (docs/OPERATIONS.md, "Retention and runway").
public struct RetentionStatus: Codable, Sendable {
    /// Bytes from the oldest file a known standby needs to the end of the log.
    public var retainedBytes: UInt64
    /// Nil without `--max-retained-mbytes`.
    public var maxRetainedBytes: UInt64?
    public var runwayBytes: UInt64?
    /// The tranlog's growth over the last minute, and `runwayBytes` at that rate (nil while idle).
    public var logBytesPerSecond: Double?
    public var runwaySeconds: Double?
}
