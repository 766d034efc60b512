import Foundation
import Transport

/// Keys: read, written, and written only under a condition (a transaction).
extension EtcdClient {
    private typealias JSON = EtcdGatewayJSON

    /// The key's current value, nil when absent.
    public func get(_ key: String) throws(EtcdError) -> EtcdKeyValue? {
        try keyValues(try call("/v3/kv/range", JSON.RangeRequest(key: JSON.base64(key)), as: JSON.RangeResponse.self)).first
    }

    /// Every key starting with `prefix`, in key order.
    public func list(prefix: String) throws(EtcdError) -> [EtcdKeyValue] {
        let request = JSON.RangeRequest(key: JSON.base64(prefix), range_end: JSON.prefixEnd(prefix))
        return try keyValues(try call("/v3/kv/range", request, as: JSON.RangeResponse.self))
    }

    /// Writes the key whatever it holds; `lease` 0: none. The revision it was written at.
    @discardableResult
    public func put(_ key: String, value: [UInt8], lease: Int64 = 0) throws(EtcdError) -> Int64 {
        try call("/v3/kv/put", putRequest(key, value, lease), as: JSON.PutResponse.self).response.header?.revision?.value ?? 0
    }

    /// Deletes the key; whether it existed.
    @discardableResult
    public func delete(_ key: String) throws(EtcdError) -> Bool {
        (try call("/v3/kv/deleterange", JSON.DeleteRangeRequest(key: JSON.base64(key)), as: JSON.DeleteRangeResponse.self)
            .response.deleted?.value ?? 0) > 0
    }

    /// Creates the key only if it does not exist (one transaction). `.written` or, when it exists,
    /// `.conflict` with what it holds.
    public func create(_ key: String, value: [UInt8], lease: Int64 = 0) throws(EtcdError) -> ConditionalWrite {
        try conditional(JSON.Compare(key: JSON.base64(key), target: "CREATE", create_revision: JSON.Int64Text(0)), key: key,
                        then: JSON.RequestOp(request_put: putRequest(key, value, lease)))
    }

    /// Writes the key only if it was last changed at `modRevision` (0: only if absent).
    public func put(_ key: String, value: [UInt8], lease: Int64 = 0, ifModRevision modRevision: Int64) throws(EtcdError)
        -> ConditionalWrite
    {
        try conditional(JSON.Compare(key: JSON.base64(key), target: "MOD", mod_revision: JSON.Int64Text(modRevision)), key: key,
                        then: JSON.RequestOp(request_put: putRequest(key, value, lease)))
    }

    /// Deletes the key only if it was last changed at `modRevision`.
    public func delete(_ key: String, ifModRevision modRevision: Int64) throws(EtcdError) -> ConditionalWrite {
        try conditional(JSON.Compare(key: JSON.base64(key), target: "MOD", mod_revision: JSON.Int64Text(modRevision)), key: key,
                        then: JSON.RequestOp(request_delete_range: JSON.DeleteRangeRequest(key: JSON.base64(key))))
    }

    /// The outcome of a conditional write.
    public enum ConditionalWrite: Sendable, Equatable {
        /// Done, at this revision.
        case written(revision: Int64)
        /// The condition failed: the key as it is now (nil: absent).
        case conflict(EtcdKeyValue?)
    }

    /// One transaction: if `compare` holds, `then`; else read the key back to say what it holds.
    private func conditional(_ compare: JSON.Compare, key: String, then operation: JSON.RequestOp) throws(EtcdError) -> ConditionalWrite {
        let request = JSON.TxnRequest(
            compare: [compare], success: [operation], failure: [JSON.RequestOp(request_range: JSON.RangeRequest(key: JSON.base64(key)))])
        let answer = try call("/v3/kv/txn", request, as: JSON.TxnResponse.self)
        if answer.response.succeeded == true { return .written(revision: answer.response.header?.revision?.value ?? 0) }
        guard let range = answer.response.responses?.first?.response_range else {
            throw .malformedResponse(answer.endpoint, detail: "a failed transaction without the read of \(key) it asked for")
        }
        return .conflict(try keyValues(Answer(response: range, endpoint: answer.endpoint)).first)
    }

    private func putRequest(_ key: String, _ value: [UInt8], _ lease: Int64) -> JSON.PutRequest {
        JSON.PutRequest(key: JSON.base64(key), value: JSON.base64(value), lease: lease == 0 ? nil : JSON.Int64Text(lease))
    }

    private func keyValues(_ answer: Answer<JSON.RangeResponse>) throws(EtcdError) -> [EtcdKeyValue] {
        var decoded: [EtcdKeyValue] = []
        for entry in answer.response.kvs ?? [] {
            guard let key = Data(base64Encoded: entry.key), let value = Data(base64Encoded: entry.value ?? "") else {
                throw .malformedResponse(answer.endpoint, detail: "a key or value that is not base64: '\(entry.key)'")
            }
            decoded.append(EtcdKeyValue(
                key: String(decoding: key, as: UTF8.self), value: Array(value), createRevision: entry.create_revision?.value ?? 0,
                modRevision: entry.mod_revision?.value ?? 0, lease: entry.lease?.value ?? 0))
        }
        return decoded
    }
}
