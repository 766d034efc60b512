import Replication
import Tranlog

/// Defined beside the wire format that carries it; named here for the API's users.
public typealias SynchronousLevel = Replication.SynchronousLevel

/// How a synchronous primary acknowledges commits now: `synchronous` (enough standbys count, commits
/// wait for their acks), `waiting` (too few; commits wait) or `fallback` (too few for longer than
/// `--synchronous-fallback-after`; commits are acknowledged asynchronously until a standby caught up).
public enum SynchronousState: String, Codable, Sendable, CaseIterable {
    case synchronous, waiting, fallback
}

/// `synchronous` of `GET /status` on a primary with `--synchronous-standbys` above 0.
public struct SynchronousReplicationStatus: Codable, Sendable, Equatable {
    /// How many standbys must have acknowledged a commit at `level`.
    public var required: Int
    public var level: SynchronousLevel
    public var state: SynchronousState
    /// When `state` was entered, RFC 3339.
    public var since: String
    /// The node ids counted as synchronous now: connected, streaming and caught up once.
    public var standbys: [String]
    /// Standbys that were told they are required, have not heard otherwise and are not counted now
    /// (disconnected, or not caught up): commits wait for them too, until they are back, forgotten
    /// (`understudy standbys forget`) or the settings change (`understudy synchronous set`).
    public var awaitedStandbys: [String]
    /// Commits made durable here and not yet acknowledged to their clients.
    public var waitingCommits: Int

    /// One line for `understudy status` and `synchronous set`.
    public var summary: String {
        "synchronous: \(state.rawValue) since \(since); \(standbys.count) of \(required) standby(s) at level \(level.rawValue)"
            + (standbys.isEmpty ? "" : " (\(standbys.joined(separator: ", ")))")
            + (awaitedStandbys.isEmpty ? "" : "; also waiting for \(awaitedStandbys.joined(separator: ", "))") + "; \(waitingCommits) commit(s) waiting"
    }
}

/// `POST /admin/synchronous`: the number of standbys a commit waits for, and optionally the level.
public struct SynchronousSetRequest: Codable, Sendable {
    public var standbys: Int
    public var level: SynchronousLevel?

    public init(standbys: Int, level: SynchronousLevel? = nil) {
        self.standbys = standbys
        self.level = level
    }
}

/// The answer to `POST /admin/synchronous`: the new settings' status (nil: asynchronous) and how many
/// waiting commits the change acknowledged.
public struct SynchronousSetReply: Codable, Sendable {
    public var synchronous: SynchronousReplicationStatus?
    public var released: Int
    public var message: String
}
