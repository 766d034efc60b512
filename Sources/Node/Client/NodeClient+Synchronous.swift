/// `POST /admin/synchronous` as a typed call.
extension NodeClient {
    public func setSynchronous(_ request: SynchronousSetRequest, token: String) throws(NodeClientError) -> SynchronousSetReply {
        try admin("POST", "/admin/synchronous", token: token, body: request)
    }
}
