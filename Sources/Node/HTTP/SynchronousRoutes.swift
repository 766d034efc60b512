import Repository
import TransportUV

/// `POST /admin/synchronous` (admin token): changes how many standbys a commit waits for (0:
/// asynchronous) and optionally the level, at run time. Answers at once, on the loop: lowering the
/// number acknowledges the waiting commits the new one covers before the answer goes out.
struct SynchronousRoutes: Sendable {
    let admin: AdminRoutes
    /// The primary's gate; nil on a node serving no standbys.
    let gate: @Sendable () -> SynchronousGate?

    var routes: [Route] {
        [Route(name: "admin_synchronous", path: .exact("/admin/synchronous"), handlers: ["POST": { set($0, $1) }])]
    }

    private func set(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try admin.authorize(request.http.headers)
            let body = try JSONBody.decode(SynchronousSetRequest.self, from: request.http.body)
            guard body.standbys >= 0 else { throw .badRequest("invalid request", "standbys: must be 0 (asynchronous) or more, not \(body.standbys)") }
            guard let gate = gate() else {
                throw APIError(RepositoryError.notAllowed(
                    "this node serves no standbys (a primary started with --replication-key-file does): there is no replication to make synchronous"))
            }
            reply.sendJSON(gate.change(standbys: body.standbys, level: body.level))
        }
    }
}
