import Repository
import Tranlog

/// `warmStandby` in a warm standby's `GET /status` (`understudy standby --archive`).
public struct WarmStandbyStatus: Codable, Sendable {
    /// The archive directory polled.
    public var archive: String
    /// `applying`, `waiting` (for `waitingFor`), `failed: reason` (a file that cannot be applied;
    /// nothing after it is applied until it is replaced), or `promoted`.
    public var state: String
    /// The next file needed, while waiting for it: `tranlogN.dbf` (plain or `.gz`).
    public var waitingFor: String?
    /// The last file records were applied from, and the applied position.
    public var lastAppliedFile: String?
    public var appliedSeqno: Seqno
    /// Records applied since the node started, and the rate of the last pass that applied any.
    public var recordsApplied: Int
    public var recordsPerSecond: Double?
    public var lastPollTime: Timestamp?
    public var pollSeconds: Double
}
