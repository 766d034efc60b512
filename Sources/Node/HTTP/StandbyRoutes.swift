import Repository
import TransportUV

/// `POST /admin/standby/offline` and `POST /admin/standby/online` (admin token): Tungsten's
/// `replicator offline|online` for a standby. Both answer a `StandbyModeReport`; a node that is no
/// standby, an `--at-seqno` already passed, or a fault that is still there is 409 with the reason.
struct StandbyRoutes: Sendable {
    let admin: AdminRoutes
    let standby: @Sendable () throws(RepositoryError) -> StandbyReplica

    var routes: [Route] {
        [
            Route(name: "admin_standby_offline", path: .exact("/admin/standby/offline"), handlers: ["POST": { offline($0, $1) }]),
            Route(name: "admin_standby_online", path: .exact("/admin/standby/online"), handlers: ["POST": { online($0, $1) }]),
        ]
    }

    private func offline(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try admin.authorize(request.http.headers)
            let body = request.http.body.isEmpty ? StandbyOfflineRequest() : try JSONBody.decode(StandbyOfflineRequest.self, from: request.http.body)
            if body.atSeqno != nil && body.immediate == true { throw .badRequest("invalid request", "atSeqno and immediate exclude each other") }
            // Going offline waits for the apply in progress: off the loop thread.
            reply.sendJSONOffLoop { [standby] () throws(RepositoryError) in try standby().offline(body) }
        }
    }

    private func online(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try admin.authorize(request.http.headers)
            let body = request.http.body.isEmpty ? StandbyOnlineRequest() : try JSONBody.decode(StandbyOnlineRequest.self, from: request.http.body)
            reply.sendJSONOffLoop { [standby] () throws(RepositoryError) in try standby().online(force: body.force == true) }
        }
    }
}
