import Repository
import TransportUV

/// `POST /admin/backup/full` (the manual's fullBackupTo:) and the checkpoint suspension an extent
/// snapshot needs: `POST /admin/checkpoints/suspend`, `POST /admin/checkpoints/resume`,
/// `GET /admin/checkpoints` (checkpointStatus). All behind the admin token.
struct BackupRoutes: Sendable {
    let repository: Repository
    let admin: AdminRoutes

    var routes: [Route] {
        [
            Route(name: "admin_backup_full", path: .exact("/admin/backup/full"), handlers: ["POST": { fullBackup($0, $1) }]),
            Route(name: "admin_checkpoints", path: .exact("/admin/checkpoints"), handlers: ["GET": { suspension($0, $1) }]),
            Route(name: "admin_checkpoints_suspend", path: .exact("/admin/checkpoints/suspend"), handlers: ["POST": { suspend($0, $1) }]),
            Route(name: "admin_checkpoints_resume", path: .exact("/admin/checkpoints/resume"), handlers: ["POST": { resume($0, $1) }]),
        ]
    }

    private func fullBackup(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try admin.authorize(request.http.headers)
            let body = try JSONBody.decode(FullBackupRequest.self, from: request.http.body)
            let targets = try body.targets()
            reply.sendJSONOffLoop { [repository] () throws(RepositoryError) in
                try repository.fullBackup(to: targets, compress: body.compress, label: body.label)
            }
        }
    }

    private func suspension(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try admin.authorize(request.http.headers)
            reply.sendJSON(repository.checkpointSuspension)
        }
    }

    /// Off the loop: a suspension waits for a checkpoint in progress to finish.
    private func suspend(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try admin.authorize(request.http.headers)
            let duration = try JSONBody.decode(CheckpointSuspendRequest.self, from: request.http.body).duration()
            reply.sendJSONOffLoop { [repository] () throws(RepositoryError) in try repository.suspendCheckpoints(for: duration) }
        }
    }

    /// Off the loop: resuming takes the checkpoint lock, which a checkpoint in progress holds while it
    /// writes its run (one that started when a suspension lapsed).
    private func resume(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try admin.authorize(request.http.headers)
            reply.sendJSONOffLoop { [repository] in CheckpointResumeReply(wereStillSuspended: repository.resumeCheckpoints()) }
        }
    }
}
