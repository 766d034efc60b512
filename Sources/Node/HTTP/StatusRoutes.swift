import Dispatch
import Repository
import TransportUV

/// `GET /status` (JSON `NodeStatus`) and `GET /metrics` (Prometheus text format). Both are built off
/// the loop: a status lists the tranlog directory and waits for the repository's state lock, which a
/// checkpoint holds, and the loop thread serves every socket.
struct StatusRoutes: Sendable {
    let repository: Repository
    let metrics: NodeMetrics
    let status: @Sendable () -> NodeStatus

    var routes: [Route] {
        [
            Route(name: "status", path: .exact("/status"), handlers: ["GET": { _, reply in reply.sendJSONOffLoop { status() } }]),
            Route(name: "metrics", path: .exact("/metrics"), handlers: ["GET": { _, reply in DispatchQueue.global(qos: .utility).async { scrape(reply) } }]),
        ]
    }

    private func scrape(_ reply: Reply) {
        let current = status()
        metrics.recordRole(current)
        metrics.recordRetention(current)
        metrics.recordSynchronous(current.synchronous)
        metrics.recordFence(repository.fence, highestEpochSeen: repository.highestEpochSeen)
        reply.send(HTTPResponse(
            status: 200, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
            body: metrics.exposition(refreshedFrom: repository.status, replication: current.replication)))
    }
}
