import Repository

extension NodeClient {
    /// The headers of the record `key` names in the node's tranlogs (`GET /tranlog/find`). A record
    /// that is not there is `refused` with status 404 and a detail saying what the logs hold.
    public func findRecord(_ key: RecordKey) throws(NodeClientError) -> RecordHeaders {
        let (name, value) = key.queryParameter
        return try decode(RecordHeaders.self, from: send(method: "GET", path: "/tranlog/find?\(name)=" + PercentEncoding.encode(Array(value.utf8))))
    }
}
