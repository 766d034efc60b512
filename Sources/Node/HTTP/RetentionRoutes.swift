import Repository
import Tranlog
import TransportUV

/// Tranlog retention, behind the admin token: `POST /admin/tranlogs/purge` removes old tranlogs
/// with the checks of `understudy tranlog purge`, `DELETE /admin/standbys/{nodeId}` forgets a
/// decommissioned standby. The known standbys are listed in `GET /status` (`standbys`).
struct RetentionRoutes: Sendable {
    let repository: Repository
    let admin: AdminRoutes

    var routes: [Route] {
        [
            Route(name: "admin_tranlogs_purge", path: .exact("/admin/tranlogs/purge"), handlers: ["POST": { purge($0, $1) }]),
            Route(name: "admin_standbys", path: .prefix("/admin/standbys/"), handlers: ["DELETE": { forget($0, $1) }]),
        ]
    }

    private func purge(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try admin.authorize(request.http.headers)
            let body = try JSONBody.decode(TranlogPurgeRequest.self, from: request.http.body)
            reply.sendJSONOffLoop { [repository] () throws(RepositoryError) in
                try repository.purgeTranlogs(through: body.throughFileID, force: body.force, dryRun: body.dryRun)
            }
        }
    }

    private func forget(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try admin.authorize(request.http.headers)
            guard let bytes = PercentEncoding.decode(request.pathRemainder), let nodeID = String(validating: bytes, as: UTF8.self), !nodeID.isEmpty else {
                throw .badRequest("invalid node id", "DELETE /admin/standbys/{nodeId} needs a percent-encoded UTF-8 node id")
            }
            reply.sendJSONOffLoop(refusal: Self.notKnown) { [repository] () throws(RepositoryError) in
                guard let forgotten = try repository.knownStandbys.forget(nodeID) else {
                    throw .notAllowed("no known standby \(nodeID); `understudy standbys list` shows the known ones")
                }
                return ForgetStandbyReply(forgotten: forgotten)
            }
        }
    }

    private static func notKnown(_ error: RepositoryError) -> APIError {
        if case .notAllowed(let detail) = error { return APIError(status: 404, error: "unknown standby", detail: detail) }
        return APIError(error)
    }
}
