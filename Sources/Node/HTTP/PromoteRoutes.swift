import Repository
import TransportUV

/// `POST /admin/promote` (admin token): a standby stops following its primary, applies what it
/// holds and becomes a primary. Answers 200 with a `PromoteReport`; on a node that is no standby
/// (already promoted, or always a primary) also 200, with `promoted: false`, so a retry is harmless.
struct PromoteRoutes: Sendable {
    let admin: AdminRoutes
    let promote: @Sendable () throws(RepositoryError) -> PromoteReport

    var routes: [Route] {
        [Route(name: "admin_promote", path: .exact("/admin/promote"), handlers: ["POST": { promote($0, $1) }])]
    }

    private func promote(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try admin.authorize(request.http.headers)
            // Applying the last records and opening the epoch touch the disk: off the loop thread.
            reply.sendJSONOffLoop(promote)
        }
    }
}
