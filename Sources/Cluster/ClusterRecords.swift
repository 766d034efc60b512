import Foundation
import Tranlog

/// Where a cluster lives in etcd: everything under `/understudy/NAME/`.
public struct ClusterKeys: Sendable {
    public let cluster: String

    public init(cluster: String) { self.cluster = cluster }

    /// The leader's `LeaderRecord`, under the leader's lease.
    public var leader: String { "/understudy/\(cluster)/leader" }
    /// The last winner of the lease and the epoch it opens (`EpochClaim`), under no lease: it outlives
    /// every node, so a returning old primary learns it was replaced.
    public var epoch: String { "/understudy/\(cluster)/epoch" }
    /// A planned switchover's `SwitchoverRequest`, under a lease of its own (an abandoned one expires).
    public var switchover: String { "/understudy/\(cluster)/switchover" }
    /// Each member's `MemberRecord`, under its own lease.
    public var membersPrefix: String { "/understudy/\(cluster)/members/" }
    public func member(_ name: String) -> String { membersPrefix + name }
    /// Each `LossRecord`, under no lease: what a replaced primary held that its successor never had,
    /// kept until an operator deletes it.
    public var lossesPrefix: String { "/understudy/\(cluster)/losses/" }
    public func loss(member: String, epoch: UInt64) -> String { lossesPrefix + "\(member)-epoch-\(epoch)" }
}

/// `/understudy/NAME/leader`: who holds the lease, where to reach it, and its epoch.
public struct LeaderRecord: Codable, Sendable, Equatable {
    public var name: String
    public var http: String
    public var replication: String
    public var epoch: UInt64
}

/// `/understudy/NAME/epoch`: written by the winner of the lease before it serves, so the epoch it opens
/// is known to the cluster even if it dies at once.
public struct EpochClaim: Codable, Sendable, Equatable {
    public var node: String
    public var epoch: UInt64
    /// The winner's epoch history, written again once its promotion is durable (nil until then): where
    /// each epoch began is what tells a returning old primary exactly which of its records were lost.
    public var history: [EpochEntry]?

    public init(node: String, epoch: UInt64, history: [EpochEntry]? = nil) {
        self.node = node
        self.epoch = epoch
        self.history = history
    }
}

/// `/understudy/NAME/switchover`: `understudy cluster switchover` asks the leader `from` to hand the
/// lease to the standby `to`.
public struct SwitchoverRequest: Codable, Sendable, Equatable {
    public var from: String
    public var to: String

    public init(from: String, to: String) {
        self.from = from
        self.to = to
    }
}

/// `/understudy/NAME/members/NODE`, refreshed each second by the node's supervisor.
public struct MemberRecord: Codable, Sendable, Equatable {
    public var name: String
    public var http: String
    public var replication: String
    /// `leader`, `standby`, `candidate` (a primary waiting for the lease), `fenced`, `reseeding`, `starting`.
    public var role: String
    public var epoch: UInt64
    public var appliedSeqno: UInt64
    /// What an election compares: a standby's flushed seqno, a primary's applied one.
    public var flushedSeqno: UInt64
    /// Whether it may take the lease: not offline, diverged, fenced or still starting.
    public var eligible: Bool
    /// On a standby: its primary says its ack is required for every commit (synchronous replication).
    public var synchronous: Bool
    /// Why, in a few words: `streaming`, `offline`, `fenced: …`, `etcd unavailable: …`.
    public var state: String
}

enum ClusterJSON {
    static func encode<Value: Encodable>(_ value: Value) -> [UInt8] {
        do { return Array(try JSONEncoder().encode(value)) } catch { preconditionFailure("a cluster record always encodes: \(error)") }
    }

    static func decode<Value: Decodable>(_ type: Value.Type, _ bytes: [UInt8], key: String) throws(ClusterError) -> Value {
        do { return try JSONDecoder().decode(type, from: Data(bytes)) } catch {
            throw .malformedRecord(key: key, detail: "\(error)")
        }
    }
}

/// A cluster record etcd holds that this version cannot read.
public enum ClusterError: Error, Sendable, CustomStringConvertible {
    case malformedRecord(key: String, detail: String)

    public var description: String {
        switch self {
        case .malformedRecord(let key, let detail): "etcd key \(key) does not hold what Understudy writes there: \(detail)"
        }
    }
}
