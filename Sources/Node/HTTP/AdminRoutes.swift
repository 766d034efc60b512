import Foundation
import Repository
import TransportUV

/// Every `/admin/...` route, guarded by the bearer token in `DATA/admin.token`: a missing or
/// malformed `Authorization` is 401, a wrong token 403. `POST /admin/checkpoint` is here; backups,
/// checkpoint suspension and restore have their own groups (`BackupRoutes`, `RestoreRoutes`).
struct AdminRoutes: Sendable {
    let repository: Repository
    let token: [UInt8]
    /// What the node follows while it is a standby (`NodeReplication.following`).
    let following: @Sendable () -> String?

    var routes: [Route] {
        [Route(name: "admin_checkpoint", path: .exact("/admin/checkpoint"), handlers: ["POST": { checkpoint($0, $1) }])]
            + BackupRoutes(repository: repository, admin: self).routes
            + RestoreRoutes(repository: repository, admin: self, following: following).routes
            + RetentionRoutes(repository: repository, admin: self).routes
            + FenceRoutes(repository: repository, admin: self).routes
    }

    private func checkpoint(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try authorize(request.http.headers)
            reply.sendJSONOffLoop { [repository] () throws(RepositoryError) in
                let taken = try repository.checkpoint() != nil
                let current = repository.status.checkpoint
                return CheckpointReply(taken: taken, manifestGeneration: current.manifestGeneration, position: current.position)
            }
        }
    }

    func authorize(_ headers: HTTPHeaders) throws(APIError) {
        let scheme = "bearer "
        guard let value = headers["Authorization"], value.lowercased().hasPrefix(scheme) else {
            throw APIError(
                status: 401, error: "unauthorized",
                detail: "admin endpoints need `Authorization: Bearer TOKEN`, the token being in DATA/admin.token",
                headers: ["WWW-Authenticate": "Bearer"])
        }
        let offered = Array(value.dropFirst(scheme.count).trimmingCharacters(in: .whitespaces).utf8)
        guard Self.constantTimeEqual(offered, token) else {
            throw APIError(status: 403, error: "forbidden", detail: "the bearer token does not match DATA/admin.token")
        }
    }

    /// Compares without stopping at the first difference, so response time says nothing about how
    /// much of a guess was right. The length is no secret: every token is 64 hex digits.
    static func constantTimeEqual(_ offered: [UInt8], _ expected: [UInt8]) -> Bool {
        guard offered.count == expected.count else { return false }
        var difference: UInt8 = 0
        for index in expected.indices { difference |= offered[index] ^ expected[index] }
        return difference == 0
    }
}
