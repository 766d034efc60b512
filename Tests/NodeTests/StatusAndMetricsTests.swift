import Foundation
import Node
import Repository
import Testing
import Tranlog

@Suite("Status and metrics")
struct StatusAndMetricsTests {
    @Test("GET /status reports role, repository, addresses and restore status; no replication address where nothing listens")
    func status() throws {
        try withNode(configure: { $0.replicationAddress.port = 17481 }) { fixture in
            let written = try fixture.client.put(key: .init("k"), value: [1])
            let asked = Timestamp.now()
            let status = try fixture.client.status()
            #expect(status.time >= asked && status.time <= Timestamp.now(), "taken while the request was served")
            #expect(status.repository.applied.time.map { $0 <= status.time } == true, "the applied commit is older than the status")
            #expect(status.role == "primary")
            #expect(status.restoreStatus == "Restore is not active")
            #expect(status.version == UnderstudyVersion.current)
            #expect(status.httpAddress == "\(fixture.node.httpAddress)")
            #expect(status.replicationAddress == nil, "no key file: nothing listens on 127.0.0.1:17481")
            #expect(status.uptimeSeconds >= 0)
            #expect(status.repository.repositoryID == fixture.repositoryConfig.repositoryID)
            #expect(status.repository.sourceID == SourceID("node-test"))
            #expect(status.repository.objectCount == 1)
            #expect(status.repository.applied.seqno == written.seqno)
            #expect(status.repository.writesRefused == nil)
        }
    }

    @Test("GET /metrics counts commits, conflicts, requests and checkpoints")
    func metrics() throws {
        try withNode { fixture in
            let client = fixture.client
            for index in 0..<3 { _ = try client.put(key: .init("k\(index)"), value: [1]) }
            _ = try? client.put(key: .init("k0"), value: [2], expecting: .absent)
            _ = try client.checkpoint(token: try AdminToken.read(fixture.dataDirectory))
            let text = try client.metrics()
            for line in [
                "understudy_commits_total 3", "understudy_commit_conflicts_total 1", "understudy_commit_duration_seconds_count 3",
                "understudy_objects 3.0", "understudy_checkpoints_total 1",
                "understudy_http_requests_total{route=\"object\",status=\"409\"} 1",
                "understudy_http_requests_total{route=\"object\",status=\"200\"} 3",
            ] {
                #expect(text.split(separator: "\n").contains(Substring(line)), "missing \(line) in\n\(text)")
            }
        }
    }

    @Test("GET /metrics names the role (one series per role), the epoch and restore mode, and no archive series without --archive-dir")
    func roleAndEpoch() throws {
        try withNode { fixture in
            let text = try fixture.client.metrics()
            let lines = text.split(separator: "\n")
            for line in [
                "understudy_role{role=\"primary\"} 1.0", "understudy_role{role=\"standby\"} 0.0", "understudy_role{role=\"restoring\"} 0.0",
                "understudy_role{role=\"promoting\"} 0.0", "understudy_epoch 1.0", "understudy_restore_mode 0.0",
            ] {
                #expect(lines.contains(Substring(line)), "missing \(line) in\n\(text)")
            }
            #expect(!text.contains("understudy_archive_"), "archive series on a node that does not archive:\n\(text)")
        }
    }
}
