import Foundation
import Logging
import Transport
import TransportUV

/// Serves `GET /status` (`BaseCopyPhaseStatus`) while a standby copies its base, on the node's HTTP
/// address; every other request gets 503 "copying base". Closed before the node opens the same
/// address (the port actually bound, when 0 was asked for) for its real API.
///
/// `@unchecked Sendable`: the server is created and closed on the loop only.
final class BaseCopyStatusServer: @unchecked Sendable {
    private let server: HTTPServer
    let address: SocketAddress

    private init(_ server: HTTPServer) {
        self.server = server
        address = server.address
    }

    /// Call off the loop.
    static func start(
        on loop: UVEventLoop, configuration: HTTPServerConfiguration, dataDirectory: String, progress: BaseCopyProgress, logger: Logger
    ) throws(NodeError) -> BaseCopyStatusServer {
        let started = loop.executeAndWait { () -> Result<BaseCopyStatusServer, TransportError> in
            let address = Locked<String>("")
            return Result { () throws(TransportError) in
                let server = try HTTPServer(eventLoop: loop, configuration: configuration, logger: logger) { request, responder in
                    responder.respond(Self.answer(request, dataDirectory: dataDirectory, address: address.withLock { $0 }, progress: progress))
                }
                address.withLock { $0 = "\(server.address)" }
                return BaseCopyStatusServer(server)
            }
        }
        guard let started else { throw .invalidConfiguration("the event loop stopped before the HTTP server started") }
        do { return try started.get() } catch { throw .http(error) }
    }

    /// Call off the loop.
    func close(on loop: UVEventLoop) {
        _ = loop.executeAndWait { self.server.close() }
    }

    private static func answer(_ request: HTTPRequest, dataDirectory: String, address: String, progress: BaseCopyProgress) -> HTTPResponse {
        guard request.method == "GET", request.path == "/status" else {
            return .error(status: 503, error: "copying base", detail: "this standby is copying its base from the primary; only GET /status is served until it is done")
        }
        let status = BaseCopyPhaseStatus(
            role: "standby", version: UnderstudyVersion.current, httpAddress: address, dataDirectory: dataDirectory, baseCopy: progress.status)
        return HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: JSONBody.encode(status))
    }
}
