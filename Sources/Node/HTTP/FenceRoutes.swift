import Dispatch
import Repository
import Tranlog
import TransportUV

/// `POST /admin/fence` and `POST /admin/unfence` (admin token): an operator who knows another node
/// was promoted fences this one, or lifts a fence. Both write `DATA/fence.json`: off the loop thread.
struct FenceRoutes: Sendable {
    let repository: Repository
    let admin: AdminRoutes

    var routes: [Route] {
        [
            Route(name: "admin_fence", path: .exact("/admin/fence"), handlers: ["POST": { fence($0, $1) }]),
            Route(name: "admin_unfence", path: .exact("/admin/unfence"), handlers: ["POST": { unfence($0, $1) }]),
        ]
    }

    private func fence(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try admin.authorize(request.http.headers)
            let body = request.http.body.isEmpty ? FenceRequest() : try JSONBody.decode(FenceRequest.self, from: request.http.body)
            reply.sendJSONOffLoop { [repository] () throws(RepositoryError) in
                let newer = NewerEpoch(
                    epoch: body.epoch ?? repository.epochHistory.current.epoch.next, seqno: body.seqno, node: body.node,
                    learnedFrom: "the operator (POST /admin/fence)")
                return FenceReply(try repository.fence(at: newer))
            }
        }
    }

    private func unfence(_ request: RoutedRequest, _ reply: Reply) {
        reply.orError { () throws(APIError) in
            try admin.authorize(request.http.headers)
            reply.sendJSONOffLoop { [repository] () throws(RepositoryError) in
                UnfenceReply(lifted: try repository.unfence().map(FenceStatus.init))
            }
        }
    }
}

/// A client that knows of an epoch (it wrote to the new primary) presents it with `Understudy-Epoch: E`
/// on a write; a primary of an older epoch then fences itself before refusing it.
enum ClientEpoch {
    static let header = "Understudy-Epoch"

    static func presented(in headers: HTTPHeaders) throws(APIError) -> Epoch? {
        guard let text = headers[header] else { return nil }
        guard let value = UInt64(text.trimmingCharacters(in: .whitespaces)), value > 0 else {
            throw .badRequest("invalid \(header)", "`\(header)` must be an epoch number (1, 2, …), not '\(text)'")
        }
        return Epoch(value)
    }
}
