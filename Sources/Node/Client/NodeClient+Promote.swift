/// `POST /admin/promote` as a typed call.
extension NodeClient {
    public func promote(token: String) throws(NodeClientError) -> PromoteReport {
        try admin("POST", "/admin/promote", token: token)
    }
}
