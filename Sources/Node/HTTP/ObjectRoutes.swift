import Foundation
import Repository
import Tranlog
import TransportUV

/// `GET|PUT|DELETE /objects/{key}` (one object; the key percent-encoded) and `GET /objects` (a listing).
///
/// Reads answer from the repository's visible (durable) state. A `GET` carries the seqno that wrote the
/// value in `ETag` (quoted, as HTTP wants) and `X-Understudy-Seqno`; a write may carry `If-Match: SEQNO`
/// (the value must have been written at that seqno) or `If-None-Match: *` (the key must be absent),
/// which become the commit's preconditions: 409 when one does not hold.
struct ObjectRoutes: Sendable {
    let repository: Repository
    let committer: Committer

    static let defaultListLimit = 100
    static let maxListLimit = 1000
    static let seqnoHeader = "X-Understudy-Seqno"

    var routes: [Route] {
        [
            Route(name: "objects", path: .exact("/objects"), handlers: ["GET": { list($0, $1) }]),
            Route(name: "object", path: .prefix("/objects/"), handlers: [
                "GET": { get($0, $1) },
                "PUT": { put($0, $1) },
                "DELETE": { delete($0, $1) },
            ]),
        ]
    }

    private func get(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            let key = try Self.key(request.pathRemainder)
            guard let object = repository.get(key) else {
                throw APIError(status: 404, error: "no such key", detail: "key \(KeyText.display(key)) has no value")
            }
            reply.send(HTTPResponse(
                status: 200,
                headers: ["Content-Type": "application/octet-stream", "ETag": "\"\(object.seqno)\"", Self.seqnoHeader: "\(object.seqno)"],
                body: object.value))
        }
    }

    private func put(_ request: RoutedRequest, _ reply: Reply) {
        let value = request.http.body
        guard value.count <= TranlogLimits.maxValueBytes else {
            return reply.send(APIError(
                status: 413, error: "value too large",
                detail: "value of \(value.count) bytes exceeds the limit of \(TranlogLimits.maxValueBytes) bytes"))
        }
        write(request, reply) { .put(key: $0, value: value) }
    }

    private func delete(_ request: RoutedRequest, _ reply: Reply) {
        write(request, reply) { .delete(key: $0) }
    }

    private func write(_ request: RoutedRequest, _ reply: Reply, _ operation: ([UInt8]) -> Tranlog.Operation) {
        reply.orError { () throws(APIError) in
            let key = try Self.key(request.pathRemainder)
            let preconditions = try Self.preconditions(on: key, from: request.http.headers)
            try committer.commit(Transaction(operations: [operation(key)], preconditions: preconditions), headers: request.http.headers, reply: reply)
        }
    }

    private func list(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            let query = try QueryParameters(request.http.query, allowed: ["prefix", "after", "limit"])
            let limit = try Self.listLimit(query["limit"])
            let table = repository.snapshot().table
            // Listing scans every key (the table is a hash trie): off the loop thread, which serves
            // every socket, on a snapshot that later commits do not disturb.
            DispatchQueue.global(qos: .userInitiated).async {
                // One key more than asked tells whether another page follows.
                let keys = table.keys(prefix: query["prefix"] ?? [], after: query["after"], limit: limit + 1)
                let page = keys.prefix(limit)
                reply.sendJSON(KeyList(keys: page.map(WireKey.init), next: keys.count > limit ? page.last.map(WireKey.init) : nil))
            }
        }
    }

    // MARK: - Parsing

    static func key(_ encoded: Substring) throws(APIError) -> [UInt8] {
        guard let key = PercentEncoding.decode(encoded) else {
            throw .badRequest("invalid key", "malformed percent-encoding in the key '\(encoded)'")
        }
        guard !key.isEmpty else {
            throw .badRequest("invalid key", "empty key: keys are 1 to \(TranlogLimits.maxKeyBytes) bytes")
        }
        guard key.count <= TranlogLimits.maxKeyBytes else {
            throw .badRequest("invalid key", "key of \(key.count) bytes exceeds the limit of \(TranlogLimits.maxKeyBytes) bytes")
        }
        return key
    }

    static func preconditions(on key: [UInt8], from headers: HTTPHeaders) throws(APIError) -> [Precondition] {
        var preconditions: [Precondition] = []
        if let wanted = headers["If-None-Match"] {
            guard wanted.trimmingCharacters(in: .whitespaces) == "*" else {
                throw .badRequest("invalid If-None-Match", "only `If-None-Match: *` (the key must be absent) is supported, not '\(wanted)'")
            }
            preconditions.append(Precondition(key: key, expectation: .absent))
        }
        if let wanted = headers["If-Match"] {
            // Accepts the seqno bare or as the quoted ETag a GET returned.
            let text = wanted.trimmingCharacters(in: .whitespaces)
            let unquoted = text.hasPrefix("\"") && text.hasSuffix("\"") && text.count >= 2 ? String(text.dropFirst().dropLast()) : text
            guard let seqno = UInt64(unquoted) else {
                throw .badRequest("invalid If-Match", "If-Match takes the seqno that wrote the value (as in ETag), not '\(wanted)'")
            }
            preconditions.append(Precondition(key: key, expectation: .writtenAt(Seqno(seqno))))
        }
        return preconditions
    }

    static func listLimit(_ text: [UInt8]?) throws(APIError) -> Int {
        guard let text else { return defaultListLimit }
        guard let limit = Int(String(decoding: text, as: UTF8.self)), (1...maxListLimit).contains(limit) else {
            throw .badRequest("invalid limit", "limit must be an integer from 1 to \(maxListLimit), not '\(String(decoding: text, as: UTF8.self))'")
        }
        return limit
    }
}
