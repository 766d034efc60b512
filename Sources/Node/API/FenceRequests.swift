import Repository
import Tranlog

/// `POST /admin/fence`: every field optional. Without `epoch`, the node's own epoch + 1 (an operator
/// who knows a failover happened, not where); `seqno` and `node` say where that epoch began, if known.
public struct FenceRequest: Codable, Hashable, Sendable {
    public var epoch: Epoch?
    public var seqno: Seqno?
    public var node: String?

    public init(epoch: Epoch? = nil, seqno: Seqno? = nil, node: String? = nil) {
        self.epoch = epoch
        self.seqno = seqno
        self.node = node
    }
}

/// The fence in force (`fenced` in `GET /status`, and the fence replies).
public struct FenceStatus: Codable, Hashable, Sendable {
    public var epoch: Epoch
    public var seqno: Seqno?
    public var node: String?
    public var learnedFrom: String
    /// RFC 3339, UTC.
    public var since: String
    /// No commit past this seqno was acknowledged by this node.
    public var acknowledgedThrough: Seqno
    /// `fenced: epoch E began at seqno S on NODE`.
    public var message: String

    public init(_ state: FenceState) {
        epoch = state.epoch
        seqno = state.seqno
        node = state.node
        learnedFrom = state.learnedFrom
        since = state.since.iso8601
        acknowledgedThrough = state.acknowledgedThrough
        message = state.description
    }
}

/// `POST /admin/fence`: `changed` false when the node was already fenced at that epoch or a newer one.
public struct FenceReply: Codable, Hashable, Sendable {
    public var changed: Bool
    public var fence: FenceStatus

    init(_ outcome: FenceOutcome) {
        switch outcome {
        case .fenced(let state): (changed, fence) = (true, FenceStatus(state))
        case .alreadyFenced(let state): (changed, fence) = (false, FenceStatus(state))
        }
    }
}

/// `POST /admin/unfence`: the fence lifted, nil when the node was not fenced.
public struct UnfenceReply: Codable, Hashable, Sendable {
    public var lifted: FenceStatus?
}
