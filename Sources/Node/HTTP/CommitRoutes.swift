import Repository
import TransportUV

/// The one path by which HTTP writes reach the repository: commits the transaction, counts and
/// times it, and answers once it is durable (from the tranlog's flush thread) or refused.
struct Committer: Sendable {
    let repository: Repository
    let metrics: NodeMetrics

    func commit(_ transaction: Transaction, reply: Reply) {
        let started = ContinuousClock.now
        repository.commit(transaction) { [metrics] result in
            switch result {
            case .success(let outcome):
                metrics.recordCommit(duration: ContinuousClock.now - started)
                reply.sendJSON(CommitReply(outcome))
            case .failure(let refusal):
                if case .conflict = refusal { metrics.recordConflict() }
                reply.send(APIError(refusal))
            }
        }
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
            committer.commit(batch.transaction, reply: reply)
        }
    }
}
