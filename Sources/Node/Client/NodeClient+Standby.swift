/// `POST /admin/standby/offline|online|pause|resume` as typed calls.
extension NodeClient {
    public func standbyOffline(_ request: StandbyOfflineRequest, token: String) throws(NodeClientError) -> StandbyModeReport {
        try admin("POST", "/admin/standby/offline", token: token, body: request)
    }

    public func standbyOnline(force: Bool, token: String) throws(NodeClientError) -> StandbyModeReport {
        try admin("POST", "/admin/standby/online", token: token, body: StandbyOnlineRequest(force: force))
    }

    public func standbyPause(_ request: StandbyPauseRequest, token: String) throws(NodeClientError) -> StandbyModeReport {
        try admin("POST", "/admin/standby/pause", token: token, body: request)
    }

    public func standbyResume(token: String) throws(NodeClientError) -> StandbyModeReport {
        try admin("POST", "/admin/standby/resume", token: token)
    }
}
