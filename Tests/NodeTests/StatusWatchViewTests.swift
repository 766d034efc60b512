import Foundation
import Testing
import Tranlog

@testable import Node

@Suite("The status --watch view and the standby's lag metrics")
struct StatusWatchViewTests {
    /// A standby's replication as its status reports it: 750 records behind, applying 50 records/s
    /// against a primary committing 20/s, its lag rising by a second each second for eight seconds.
    static func standby(catchUpSeconds: Double?, receivedBytes: Int = 12_000) throws -> StandbyReplicationStatus {
        let history = (0...7).map { #"{"secondsBehind": \#($0), "recordsBehind": \#($0 * 100)}"# }.joined(separator: ", ")
        let json = """
            {"receiver": "streaming", "state": "catching-up", "primary": "127.0.0.1:7000", "primaryLastSeqno": 1300,
             "received": {"seqno": 1300, "recordsBehind": 0, "secondsBehind": 0},
             "flushed": {"seqno": 1300, "recordsBehind": 0, "bytesBehind": 0, "secondsBehind": 0},
             "applied": {"seqno": 550, "recordsBehind": 750, "secondsBehind": 7},
             "apply": {"recordsPerSecond": 50, "bytesPerSecond": 2000000, "primaryRecordsPerSecond": 20,
                       "windowSeconds": 10, "catchUpSeconds": \(catchUpSeconds.map { "\($0)" } ?? "null"),
                       "receivedBytesTotal": \(receivedBytes), "appliedBytesTotal": 9000, "appliedRecordsTotal": 550},
             "lagHistory": [\(history)]}
            """
        return try JSONDecoder().decode(StandbyReplicationStatus.self, from: Data(json.utf8))
    }

    /// 2023-11-14 12:00:00 UTC.
    static let noon = Date(timeIntervalSince1970: 1_699_963_200)

    @Test("a standby's screen: state, every stage, a sparkline of the minute, apply rate and catch-up ETA")
    func standbyScreen() throws {
        try withNode { fixture in
            var status = fixture.node.status
            status.role = "standby"
            status.replication = try Self.standby(catchUpSeconds: 25)
            let screen = StatusWatchView.screen(StatusObservation(node: "http://n", time: Self.noon, status: status))
            #expect(screen[0] == "http://n  12:00:00 UTC  (Ctrl-C to quit)")
            #expect(screen.contains("state:    catching-up from 127.0.0.1:7000 (receiver streaming)"), "\(screen)")
            #expect(screen.contains("primary:  seqno 1300"))
            #expect(screen.contains("flushed:  seqno 1300, 0 records, 0 bytes, 0.000 s behind"))
            #expect(screen.contains("applied:  seqno 550, 750 records, 7.000 s behind"))
            #expect(screen.contains("lag:      ▁▂▃▄▅▆▇█  now 7.000 s, peak 7.000 s over 8 s"), "\(screen)")
            #expect(screen.contains("apply:    50 records/s, 2.00 MB/s (primary commits 20/s, last 10 s)"))
            #expect(screen.contains("catch-up: about 25 s"))
            #expect(screen.last == status.restoreStatus)

            status.replication = try Self.standby(catchUpSeconds: nil)
            let stuck = StatusWatchView.screen(StatusObservation(node: "http://n", time: Self.noon, status: status))
            #expect(stuck.contains("catch-up: not catching up"), "\(stuck)")
            let line = StatusWatchView.line(StatusObservation(node: "http://n", time: Self.noon, status: status))
            #expect(line.hasPrefix("12:00:00 | standby seqno "), "\(line)")
            #expect(line.contains("| catching-up applied 550 behind 750 records 7.000 s | apply 50 records/s"), "\(line)")
            #expect(line.hasSuffix("catch-up not catching up"), "\(line)")
        }
    }

    @Test("a node that stopped answering: unreachable since the first miss, the last status kept below")
    func unreachable() throws {
        try withNode { fixture in
            let status = fixture.node.status
            let observation = StatusObservation(
                node: "http://n", time: Self.noon.addingTimeInterval(5), status: status, unreachableSince: Self.noon, error: "refused")
            let screen = StatusWatchView.screen(observation)
            #expect(screen[1] == "unreachable since 12:00:00 UTC, retrying: refused")
            #expect(screen[2] == "last known status:")
            #expect(screen.contains("role:     primary, epoch \(status.repository.epoch)"), "\(screen)")
            #expect(StatusWatchView.line(observation) == "12:00:05 | unreachable since 12:00:00: refused")
        }
    }

    @Test("a primary's screen has one row per standby with its positions and records behind")
    func primaryRows() throws {
        try withNode { fixture in
            _ = try fixture.client.put(key: .init("k"), value: [1])
            var status = fixture.node.status
            let seqno = status.repository.applied.seqno.rawValue
            status.standbys = [try JSONDecoder().decode(StandbyConnectionStatus.self, from: Data("""
                {"peer": "127.0.0.1:5555", "state": "streaming", "standby": "standby-a", "sentSeqno": \(seqno),
                 "receivedSeqno": \(seqno), "flushedSeqno": \(seqno), "appliedSeqno": \(seqno - 1),
                 "unflushedBytes": 0, "compressionRatio": 1}
                """.utf8))]
            let screen = StatusWatchView.screen(StatusObservation(node: "http://n", time: Self.noon, status: status))
            #expect(screen.contains(
                "standby standby-a at 127.0.0.1:5555: streaming, sent \(seqno), flushed \(seqno), applied \(seqno - 1), 1 records behind"), "\(screen)")
        }
    }

    @Test("the sparkline scales to the largest value; unknown values are blank, all zero is flat")
    func sparkline() {
        #expect(StatusWatchView.sparkline([0, 3.5, 7, nil, 1]) == "▁▅█ ▂")
        #expect(StatusWatchView.sparkline([0, 0, 0]) == "▁▁▁")
        #expect(StatusWatchView.sparkline([]) == "")
        // Milliseconds of lag on a one-second scale stay flat; a second's reaches the top.
        #expect(StatusWatchView.sparkline([0.002, 0.001, nil], scaleAtLeast: 1) == "▁▁ ")
        #expect(StatusWatchView.sparkline([0, 0.5, 1], scaleAtLeast: 1) == "▁▅█")
        // The largest finite number JSON can carry (a broken or hostile node) still draws.
        #expect(StatusWatchView.sparkline([0, .greatestFiniteMagnitude]) == "▁█")
    }

    @Test("seconds a node reports past Int's range are shown, not converted (which trapped)")
    func secondsPastIntsRange() throws {
        let retention = try JSONDecoder().decode(
            RetentionStatus.self,
            from: Data(#"{"retainedBytes": 1, "maxRetainedBytes": 2, "runwayBytes": 1, "logBytesPerSecond": 1e-300, "runwaySeconds": 1e300}"#.utf8))
        let line = StatusWatchView.retentionLine(retention)
        #expect(line.hasSuffix("runway 1 bytes (about 1e+300 s at the recent growth)"), "\(line)")
        #expect(StatusWatchView.wholeSeconds(-1e19) == "-1e+19 s")
        #expect(StatusWatchView.wholeSeconds(59.6) == "60 s")
    }

    @Test("GET /metrics of a standby exports lag per stage, apply rates, state, and +Inf when not catching up")
    func metrics() throws {
        try withNode { fixture in
            let metrics = NodeMetrics(initial: fixture.node.status.repository)
            let repository = fixture.node.status.repository
            var text = String(decoding: metrics.exposition(refreshedFrom: repository, replication: try Self.standby(catchUpSeconds: 25)), as: UTF8.self)
            for line in [
                #"understudy_replication_lag_records{stage="applied"} 750.0"#, #"understudy_replication_lag_seconds{stage="applied"} 7.0"#,
                "understudy_replication_apply_records_per_second 50.0", "understudy_replication_apply_bytes_per_second 2000000.0",
                "understudy_replication_primary_records_per_second 20.0", "understudy_replication_catch_up_seconds 25.0",
                #"understudy_replication_state{state="catching-up"} 1.0"#,
                "understudy_replication_received_bytes_total 12000", "understudy_replication_applied_bytes_total 9000",
                "understudy_replication_applied_records_total 550",
            ] {
                #expect(text.split(separator: "\n").contains(Substring(line)), "missing \(line) in\n\(text)")
            }
            // Counters follow the totals up, scrape after scrape.
            text = String(
                decoding: metrics.exposition(refreshedFrom: repository, replication: try Self.standby(catchUpSeconds: 25, receivedBytes: 15_000)),
                as: UTF8.self)
            #expect(text.split(separator: "\n").contains("understudy_replication_received_bytes_total 15000"), "\(text)")
            var stalled = try Self.standby(catchUpSeconds: nil)
            stalled.state = "stalled"
            text = String(decoding: metrics.exposition(refreshedFrom: repository, replication: stalled), as: UTF8.self)
            for line in [
                "understudy_replication_catch_up_seconds inf", #"understudy_replication_state{state="catching-up"} 0.0"#,
                #"understudy_replication_state{state="stalled"} 1.0"#,
            ] {
                #expect(text.split(separator: "\n").contains(Substring(line)), "missing \(line) in\n\(text)")
            }
        }
    }

    @Test("a standby cut off from its primary: no catch-up estimate, when it last heard, the fault and contact age in metrics")
    func cutOffStandby() throws {
        try withNode { fixture in
            var status = fixture.node.status
            status.role = "standby"
            var replication = try Self.standby(catchUpSeconds: nil)
            replication.state = "offline"
            replication.secondsSincePrimaryContact = 42.5
            replication.offline = StandbyOffline(
                reason: .fault, detail: "the mirror cannot be written", since: Timestamp(rawValue: 0), appliedSeqno: Seqno(550),
                fault: StandbyFault(kind: .mirrorWrite, message: "the mirror cannot be written"))
            status.replication = replication
            let screen = StatusWatchView.screen(StatusObservation(node: "http://n", time: Self.noon, status: status))
            #expect(screen.contains("catch-up: unknown while offline"), "\(screen)")
            #expect(screen.contains("primary:  seqno 1300, last heard 42.500 s ago"), "\(screen)")

            let metrics = NodeMetrics(initial: fixture.node.status.repository)
            let text = String(decoding: metrics.exposition(refreshedFrom: status.repository, replication: replication), as: UTF8.self)
            for line in [
                #"understudy_replication_fault{kind="mirrorWrite"} 1.0"#, #"understudy_replication_fault{kind="apply"} 0.0"#,
                #"understudy_replication_fault{kind="rejected"} 0.0"#, "understudy_replication_primary_contact_age_seconds 42.5",
            ] {
                #expect(text.split(separator: "\n").contains(Substring(line)), "missing \(line) in\n\(text)")
            }
        }
    }
}
