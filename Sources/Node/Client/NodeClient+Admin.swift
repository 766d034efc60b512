import Repository
import TransportUV

/// The admin API (`/admin/...`) as typed calls; `token` is the content of DATA/admin.token. Backups
/// and restores answer when done, so give the client a timeout long enough for them.
extension NodeClient {
    public func fullBackup(_ request: FullBackupRequest, token: String) throws(NodeClientError) -> BackupSummary {
        try admin("POST", "/admin/backup/full", token: token, body: request)
    }

    public func suspendCheckpoints(minutes: UInt64, token: String) throws(NodeClientError) -> CheckpointSuspensionStatus {
        try admin("POST", "/admin/checkpoints/suspend", token: token, body: CheckpointSuspendRequest(minutes: minutes))
    }

    public func resumeCheckpoints(token: String) throws(NodeClientError) -> CheckpointResumeReply {
        try admin("POST", "/admin/checkpoints/resume", token: token)
    }

    public func checkpointSuspension(token: String) throws(NodeClientError) -> CheckpointSuspensionStatus {
        try admin("GET", "/admin/checkpoints", token: token)
    }

    public func restoreBackup(files: [String], token: String) throws(NodeClientError) -> BackupRestoreReport {
        try admin("POST", "/admin/restore/backup", token: token, body: RestoreBackupRequest(files: files))
    }

    public func restoreLogs(_ request: LogRestoreRequest, token: String) throws(NodeClientError) -> LogRestoreReport {
        try admin("POST", "/admin/restore/logs", token: token, body: request)
    }

    public func commitRestore(token: String) throws(NodeClientError) -> CommitRestoreReport {
        try admin("POST", "/admin/restore/commit", token: token)
    }

    public func fence(_ request: FenceRequest, token: String) throws(NodeClientError) -> FenceReply {
        try admin("POST", "/admin/fence", token: token, body: request)
    }

    public func unfence(token: String) throws(NodeClientError) -> UnfenceReply {
        try admin("POST", "/admin/unfence", token: token)
    }

    /// One admin request with an optional JSON body, decoded as `Value`.
    func admin<Value: Decodable>(
        _ method: String, _ path: String, token: String, body: (some Encodable)? = nil as Empty?
    ) throws(NodeClientError) -> Value {
        var headers: HTTPHeaders = ["Authorization": "Bearer \(token)"]
        var bytes: [UInt8] = []
        if let body {
            headers.add(name: "Content-Type", value: "application/json")
            bytes = JSONBody.encode(body)
        }
        return try decode(Value.self, from: send(method: method, path: path, headers: headers, body: bytes))
    }

    /// The absent body of a request that takes none.
    struct Empty: Encodable {}
}

/// Tranlog retention (`RetentionRoutes`) as typed calls.
extension NodeClient {
    public func purgeTranlogs(_ request: TranlogPurgeRequest, token: String) throws(NodeClientError) -> PurgeReport {
        try admin("POST", "/admin/tranlogs/purge", token: token, body: request)
    }

    public func forgetStandby(_ nodeID: String, token: String) throws(NodeClientError) -> ForgetStandbyReply {
        try admin("DELETE", "/admin/standbys/" + PercentEncoding.encode(Array(nodeID.utf8)), token: token)
    }
}
