import Repository
import Tranlog
import TransportUV

/// The restore procedure of a node in restore mode (`understudy start --restore-mode`), behind the
/// admin token: `POST /admin/restore/backup` (restoreFromBackups:), `POST /admin/restore/logs`
/// (restoreFromCurrentLogs / restoreFromArchiveLogs: / restoreToEndOfLog: / restoreToPointInTime:)
/// and `POST /admin/restore/commit` (commitRestore). Each replaces or replays the whole repository:
/// always off the loop thread.
///
/// A standby is in restore mode too, but its restore belongs to its receiver: these routes refuse
/// it, naming `promote`, which stops the receiver before the same commit. (A `restore commit` on a
/// streaming standby would make a second writable node, whose own tranlog the old primary's records
/// would keep landing in.)
struct RestoreRoutes: Sendable {
    let repository: Repository
    let admin: AdminRoutes
    /// What the node follows while it is a standby (`NodeReplication.following`).
    let following: @Sendable () -> String?

    var routes: [Route] {
        [
            Route(name: "admin_restore_backup", path: .exact("/admin/restore/backup"), handlers: ["POST": { restoreBackup($0, $1) }]),
            Route(name: "admin_restore_logs", path: .exact("/admin/restore/logs"), handlers: ["POST": { restoreLogs($0, $1) }]),
            Route(name: "admin_restore_commit", path: .exact("/admin/restore/commit"), handlers: ["POST": { commitRestore($0, $1) }]),
        ]
    }

    private func restoreBackup(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try admin.authorize(request.http.headers)
            try refuseOnStandby()
            let paths = try JSONBody.decode(RestoreBackupRequest.self, from: request.http.body).paths()
            reply.sendJSONOffLoop { [repository] () throws(RepositoryError) in try repository.restoreBackup(from: paths) }
        }
    }

    private func restoreLogs(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try admin.authorize(request.http.headers)
            try refuseOnStandby()
            let body = try JSONBody.decode(LogRestoreRequest.self, from: request.http.body)
            let (sources, target) = (try body.sources(), try body.target())
            let command = body.restoreCommand.map(ArchiveCommand.init)
            reply.sendJSONOffLoop(refusal: Self.logRestoreRefusal) { [repository] () throws(RepositoryError) in
                if let command { return try repository.restoreLogs(fetching: command, to: target, dryRun: body.dryRun) }
                return try repository.restoreLogs(from: sources, to: target, dryRun: body.dryRun)
            }
        }
    }

    private func commitRestore(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try admin.authorize(request.http.headers)
            try refuseOnStandby()
            reply.sendJSONOffLoop { [repository] () throws(RepositoryError) in try repository.commitRestore() }
        }
    }

    private func refuseOnStandby() throws(APIError) {
        guard let following = following() else { return }
        throw APIError(
            status: 409, error: "standby",
            detail: "this node is \(following): its restore is fed by replication, not by restore commands. To make it a primary, "
                + "run `understudy promote` (it stops receiving first, then commits the restore)")
    }

    /// A tranlog error while restoring logs is about the logs given (missing, damaged, another
    /// repository's), like the restore failures proper: 422, not a failure of the node.
    @Sendable static func logRestoreRefusal(_ error: RepositoryError) -> APIError {
        if case .tranlog = error { return APIError(status: 422, error: "log restore failed", detail: error.description) }
        return APIError(error)
    }
}
