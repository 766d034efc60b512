import Repository
import Tranlog
import TransportUV

/// `POST /admin/standby/offline` and `POST /admin/standby/online` (admin token): Tungsten's
/// `replicator offline|online` for a standby; `POST /admin/standby/pause` and `.../resume`: stop and
/// resume applying only (PostgreSQL's pg_wal_replay_pause/resume, with a recovery target). All
/// answer a `StandbyModeReport`; a node that is no standby, an `--at-seqno` or pause target already
/// passed, or a fault that is still there is 409 with the reason; a malformed body is 400.
struct StandbyRoutes: Sendable {
    let admin: AdminRoutes
    let standby: @Sendable () throws(RepositoryError) -> StandbyReplica

    var routes: [Route] {
        [
            Route(name: "admin_standby_offline", path: .exact("/admin/standby/offline"), handlers: ["POST": { offline($0, $1) }]),
            Route(name: "admin_standby_online", path: .exact("/admin/standby/online"), handlers: ["POST": { online($0, $1) }]),
            Route(name: "admin_standby_pause", path: .exact("/admin/standby/pause"), handlers: ["POST": { pause($0, $1) }]),
            Route(name: "admin_standby_resume", path: .exact("/admin/standby/resume"), handlers: ["POST": { resume($0, $1) }]),
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

    private func pause(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try admin.authorize(request.http.headers)
            let body = request.http.body.isEmpty ? StandbyPauseRequest() : try JSONBody.decode(StandbyPauseRequest.self, from: request.http.body)
            let target = try body.target()
            // Pausing waits for the apply in progress: off the loop thread.
            reply.sendJSONOffLoop { [standby] () throws(RepositoryError) in try standby().pause(target) }
        }
    }

    private func resume(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try admin.authorize(request.http.headers)
            reply.sendJSONOffLoop { [standby] () throws(RepositoryError) in try standby().resume() }
        }
    }
}

extension StandbyPauseRequest {
    func target() throws(APIError) -> StandbyPauseTarget {
        switch (untilSeqno, untilTime) {
        case (nil, nil): return .now
        case (let seqno?, nil): return .seqno(seqno)
        case (nil, let text?):
            guard let time = Timestamp(iso8601: text) else {
                throw .badRequest("invalid untilTime", "untilTime: '\(text)' is not an RFC 3339 time such as 2026-11-22T03:12:58Z")
            }
            return .time(time)
        default:
            throw .badRequest("invalid target", "untilSeqno, untilTime: give at most one of them")
        }
    }
}
