import Foundation
import Repository
import TransportUV

/// A request as a route sees it: the HTTP request and, for prefix routes, the rest of the path.
struct RoutedRequest: Sendable {
    var http: HTTPRequest
    /// What follows the route's prefix, still percent-encoded; empty for exact routes.
    var pathRemainder: Substring
}

/// Answers a request once, counting it by route and status on the way out.
struct Reply: Sendable {
    let responder: HTTPResponder
    let route: String
    let metrics: NodeMetrics

    func send(_ response: HTTPResponse) {
        metrics.recordRequest(route: route, status: response.status)
        responder.respond(response)
    }

    func send(_ error: APIError) {
        send(error.response)
    }

    func sendJSON(_ value: some Encodable) {
        sendJSON(encoded: JSONBody.encode(value))
    }

    /// A 200 whose JSON body is already encoded.
    func sendJSON(encoded body: [UInt8]) {
        send(HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: body))
    }
}

typealias RouteHandler = @Sendable (RoutedRequest, Reply) -> Void

/// One path (exact, or a prefix followed by a parameter) and its handler per method.
struct Route: Sendable {
    enum Path: Sendable {
        case exact(String)
        case prefix(String)
    }

    /// The `route` label of `understudy_http_requests_total`.
    var name: String
    var path: Path
    var handlers: [String: RouteHandler]

    func remainder(of path: String) -> Substring? {
        switch self.path {
        case .exact(let wanted): path == wanted ? "" : nil
        case .prefix(let prefix): path.hasPrefix(prefix) ? path.dropFirst(prefix.count) : nil
        }
    }
}

/// Dispatches requests to routes: an unknown path is 404, a known path with another method 405 with
/// `Allow`. Both JSON, like every error.
struct Router: Sendable {
    let routes: [Route]
    let metrics: NodeMetrics

    func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard let (route, remainder) = match(request.path) else {
            return Reply(responder: responder, route: "unknown", metrics: metrics).send(
                APIError(status: 404, error: "no such endpoint", detail: "\(request.method) \(request.path) is not an endpoint of this node; "
                    + "see GET /status, /metrics, /objects, /objects/{key}, POST /commit, /admin/… (docs/HTTP-API.md)"))
        }
        let reply = Reply(responder: responder, route: route.name, metrics: metrics)
        guard let handler = route.handlers[request.method] else {
            let allowed = route.handlers.keys.sorted().joined(separator: ", ")
            return reply.send(APIError(
                status: 405, error: "method not allowed", detail: "\(request.path) accepts \(allowed), not \(request.method)",
                headers: ["Allow": allowed]))
        }
        handler(RoutedRequest(http: request, pathRemainder: remainder), reply)
    }

    private func match(_ path: String) -> (Route, Substring)? {
        for route in routes {
            if let remainder = route.remainder(of: path) { return (route, remainder) }
        }
        return nil
    }
}

/// JSON bodies: keys sorted so responses are stable, slashes unescaped so event ids read naturally.
enum JSONBody {
    static func encode(_ value: some Encodable) -> [UInt8] {
        // The API's own Codable types cannot fail to encode.
        Array(try! APIJSON.encoder().encode(value))
    }

    /// Decodes a request body; a failure names the field (`operations[2].op`) or the syntax problem.
    static func decode<Value: Decodable>(_ type: Value.Type, from body: [UInt8]) throws(APIError) -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch let error as DecodingError {
            throw .badRequest("invalid JSON body", describe(error, body: body))
        } catch {
            throw .badRequest("invalid JSON body", "\(error)")
        }
    }

    private static func describe(_ error: DecodingError, body: [UInt8]) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "\(field(context.codingPath + [key])): required field is missing"
        case .typeMismatch(let type, let context):
            return "\(field(context.codingPath)): expected \(typeName(type)) (\(context.debugDescription))"
        case .valueNotFound(let type, let context):
            return "\(field(context.codingPath)): expected \(typeName(type)), found null"
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return "not valid JSON: " + (syntaxProblem(in: body) ?? context.debugDescription)
        case .dataCorrupted(let context):
            return "\(field(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// Where the syntax goes wrong ("Invalid value around character 11."): JSONDecoder does not say,
    /// JSONSerialization does.
    private static func syntaxProblem(in body: [UInt8]) -> String? {
        do {
            _ = try JSONSerialization.jsonObject(with: Data(body), options: .fragmentsAllowed)
            return nil
        } catch {
            return (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
        }
    }

    /// `operations[2].op`, `preconditions[0].writtenAt`; `(body)` for the document itself.
    static func field(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return text.isEmpty ? "(body)" : text
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is UInt64.Type, is Int.Type: "a non-negative integer"
        case is [Any].Type: "an array"
        default: "\(type)"
        }
    }
}

extension Reply {
    /// Runs a handler's body, answering with the error it throws, if any.
    func orError(_ body: () throws(APIError) -> Void) {
        do { try body() } catch { send(error) }
    }

    /// Runs slow repository work (it writes and syncs files, or waits for a checkpoint) on a dispatch
    /// queue — never on the loop thread, which serves every socket — and answers with its result as
    /// JSON, or with its refusal as `refusal` words it.
    func sendJSONOffLoop<Value: Encodable & Sendable>(
        refusal: @escaping @Sendable (RepositoryError) -> APIError = { APIError($0) },
        _ work: @escaping @Sendable () throws(RepositoryError) -> Value
    ) {
        DispatchQueue.global(qos: .utility).async {
            do throws(RepositoryError) { sendJSON(try work()) } catch { send(refusal(error)) }
        }
    }
}
