import Foundation
import Repository
import Tranlog
import TransportUV

/// The node's API as typed calls. Any status other than 2xx becomes `NodeClientError.refused`, except
/// a 404 for a key, which is `nil`.
extension NodeClient {
    /// The value and the seqno that wrote it; nil when the key has no value.
    public func get(key: [UInt8]) throws(NodeClientError) -> FetchedObject? {
        let response = try send(method: "GET", path: Self.objectPath(key))
        if response.status == 404 { return nil }
        try Self.requireSuccess(response)
        guard let seqno = response.headers[ObjectRoutes.seqnoHeader].flatMap({ UInt64($0) }) else {
            throw .malformedResponse(address, detail: "no \(ObjectRoutes.seqnoHeader) header")
        }
        return FetchedObject(value: response.body, seqno: Seqno(seqno))
    }

    /// `expecting` makes the write conditional: `.absent` or `.writtenAt(seqno)`.
    public func put(key: [UInt8], value: [UInt8], expecting: Precondition.Expectation? = nil) throws(NodeClientError) -> CommitReply {
        try decode(CommitReply.self, from: send(method: "PUT", path: Self.objectPath(key), headers: Self.headers(expecting), body: value))
    }

    public func delete(key: [UInt8], expecting: Precondition.Expectation? = nil) throws(NodeClientError) -> CommitReply {
        try decode(CommitReply.self, from: send(method: "DELETE", path: Self.objectPath(key), headers: Self.headers(expecting)))
    }

    /// Keys in byte order; `limit` nil takes the node's default (100).
    public func list(prefix: [UInt8] = [], after: [UInt8]? = nil, limit: Int? = nil) throws(NodeClientError) -> KeyList {
        var parameters = ["prefix=" + PercentEncoding.encode(prefix)]
        if let after { parameters.append("after=" + PercentEncoding.encode(after)) }
        if let limit { parameters.append("limit=\(limit)") }
        return try decode(KeyList.self, from: send(method: "GET", path: "/objects?" + parameters.joined(separator: "&")))
    }

    public func commit(_ batch: CommitBatch) throws(NodeClientError) -> CommitReply {
        try commit(json: JSONBody.encode(batch))
    }

    /// Sends a batch as JSON text, unchecked: the node says precisely what is wrong with it.
    public func commit(json: [UInt8]) throws(NodeClientError) -> CommitReply {
        try decode(CommitReply.self, from: send(method: "POST", path: "/commit", headers: ["Content-Type": "application/json"], body: json))
    }

    public func status() throws(NodeClientError) -> NodeStatus {
        try decode(NodeStatus.self, from: send(method: "GET", path: "/status"))
    }

    /// Prometheus text format.
    public func metrics() throws(NodeClientError) -> String {
        let response = try send(method: "GET", path: "/metrics")
        try Self.requireSuccess(response)
        return response.text
    }

    /// Takes a checkpoint now; `token` is the content of DATA/admin.token.
    public func checkpoint(token: String) throws(NodeClientError) -> CheckpointReply {
        try admin("POST", "/admin/checkpoint", token: token)
    }

    // MARK: - Helpers

    static func objectPath(_ key: [UInt8]) -> String {
        "/objects/" + PercentEncoding.encode(key)
    }

    private static func headers(_ expecting: Precondition.Expectation?) -> HTTPHeaders {
        switch expecting {
        case nil: [:]
        case .absent: ["If-None-Match": "*"]
        case .writtenAt(let seqno): ["If-Match": "\"\(seqno)\""]
        }
    }

    static func requireSuccess(_ response: HTTPResponse) throws(NodeClientError) {
        guard !(200..<300).contains(response.status) else { return }
        struct ErrorBody: Decodable {
            var error: String
            var detail: String
        }
        let body = try? JSONDecoder().decode(ErrorBody.self, from: Data(response.body))
        throw .refused(status: response.status, error: body?.error ?? "HTTP error", detail: body?.detail ?? response.text)
    }

    func decode<Value: Decodable>(_ type: Value.Type, from response: HTTPResponse) throws(NodeClientError) -> Value {
        try Self.requireSuccess(response)
        do {
            return try JSONDecoder().decode(type, from: Data(response.body))
        } catch {
            throw .malformedResponse(address, detail: "unexpected JSON for \(type): \(error)")
        }
    }
}
