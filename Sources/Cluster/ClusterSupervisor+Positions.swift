import Foundation
import Logging
import Node
import Transport

/// Fresh positions, read from the members themselves, for the moment an election is decided.
extension ClusterSupervisor {
    /// What an election compares for a node: a standby's flushed seqno, a primary's applied one.
    static func electionSeqno(_ status: NodeStatus) -> UInt64 {
        (status.replication?.flushed.seqno ?? status.repository.applied.seqno).rawValue
    }

    /// The first of `members` whose own `GET /status` says it flushed more than `mine`; nil when none
    /// did (a member that does not answer holds nothing it could serve now).
    func memberAhead(of mine: UInt64, among members: [MemberRecord]) -> String? {
        for member in members {
            guard let address = SocketAddress(parsing: Substring(member.http)) else { continue }
            do {
                let client = try memberClient(address, timeout: .milliseconds(500))
                defer { client.close() }
                if Self.electionSeqno(try client.status()) > mine { return member.name }
            } catch {
                logger.debug("election: no status from \(member.name): \(error)")
            }
        }
        return nil
    }
}
