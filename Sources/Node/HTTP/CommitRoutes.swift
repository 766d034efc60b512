import Dispatch
import Repository
import Tranlog
import TransportUV

/// The one path by which HTTP writes reach the repository: commits the transaction, counts and
/// times it, and answers once it is durable (from the tranlog's completion thread) or refused; with
/// synchronous replication, once enough standbys acked it too (from the loop thread). A request
/// presenting a newer epoch (`Understudy-Epoch`) fences this node first.
struct Committer: Sendable {
    let repository: Repository
    let metrics: NodeMetrics
    /// What the node follows while it is a standby (`NodeReplication.following`).
    let following: @Sendable () -> String?
    /// On a primary serving standbys: holds the answer until enough standbys acked (synchronous
    /// replication). Asked at each commit: a standby's gate appears when it is promoted.
    let synchronous: @Sendable () -> SynchronousGate?
    /// On a cluster member: its standing (`NodeConfiguration.cluster`), asked before a commit and
    /// again before its acknowledgement, so none is acknowledged once commits are held.
    let cluster: (@Sendable () -> ClusterMembershipStatus)?

    func commit(_ transaction: Transaction, headers: HTTPHeaders, reply: Reply) throws(APIError) {
        if let epoch = try ClientEpoch.presented(in: headers), epoch > repository.highestEpochSeen, !repository.isRestoring {
            return fenceThenRefuse(at: epoch, reply: reply)
        }
        if let held = heldByCluster() { throw held }
        let started = ContinuousClock.now
        repository.commit(transaction) { [metrics, synchronous, self] result in
            switch result {
            case .success(let outcome):
                let acknowledge: @Sendable () -> Void = {
                    if var held = heldByCluster() {
                        held.detail += "; seqno \(outcome.seqno) is durable here but not acknowledged: it may be lost"
                        return reply.send(held)
                    }
                    metrics.recordCommit(duration: ContinuousClock.now - started)
                    reply.sendJSON(encoded: CommitReply(outcome).json)
                }
                guard let gate = synchronous() else { return acknowledge() }
                gate.acknowledge(outcome.seqno, acknowledge)
            case .failure(let refusal):
                if case .conflict = refusal { metrics.recordConflict() }
                reply.send(APIError(standbyRefusal(refusal) ?? refusal))
            }
        }
    }

    /// The refusal of a cluster member that may not acknowledge commits now, naming the leader's HTTP
    /// URL in `Understudy-Primary` when known, so a client can follow it.
    private func heldByCluster() -> APIError? {
        guard let standing = cluster?(), let reason = standing.commitsHeld else { return nil }
        var refusal = APIError(status: 503, error: "not the leader", detail: reason)
        if let url = standing.leaderURL { refusal.headers.add(name: ClusterMembershipStatus.primaryHeader, value: url) }
        return refusal
    }

    /// Writing fence.json touches the disk: off the loop thread. The write is refused either way,
    /// since the client has seen a newer epoch.
    private func fenceThenRefuse(at epoch: Epoch, reply: Reply) {
        DispatchQueue.global(qos: .userInitiated).async { [repository] in
            let newer = NewerEpoch(epoch: epoch, learnedFrom: "a client's write presenting `\(ClientEpoch.header): \(epoch)`")
            do throws(RepositoryError) {
                reply.send(APIError(.fenced(try repository.fence(at: newer).state)))
            } catch {
                reply.send(APIError(error))
            }
        }
    }

    /// A write refused by a standby names what makes it writable: `promote`, not `restore commit`.
    private func standbyRefusal(_ refusal: RepositoryError) -> RepositoryError? {
        guard case .readOnly = refusal, let following = following() else { return nil }
        return .readOnly("this node is \(following) and serves reads only; `understudy promote` makes it a primary that accepts writes")
    }
}

/// `POST /commit`: a `CommitBatch` applied atomically; 409 naming the key when a precondition fails,
/// and then nothing of the batch is applied.
struct CommitRoutes: Sendable {
    let committer: Committer

    var routes: [Route] {
        [Route(name: "commit", path: .exact("/commit"), handlers: ["POST": { post($0, $1) }])]
    }

    private func post(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            let batch = try JSONBody.decode(CommitBatch.self, from: request.http.body)
            try committer.commit(batch.transaction, headers: request.http.headers, reply: reply)
        }
    }
}
