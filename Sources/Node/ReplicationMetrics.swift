import Prometheus
import Replication
import Transport

/// A standby's lag and apply-rate gauges in the node's registry, refreshed from its
/// `StandbyReplicationStatus` at each scrape. Nothing is registered on a primary.
final class ReplicationMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    /// What each counter was raised to at the last scrape: a scrape adds what the totals grew since.
    private let exported = Locked<[String: UInt64]>([:])

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func refresh(from replication: StandbyReplicationStatus) {
        exportState(replication.state)
        for (name, stage) in [("received", replication.received), ("flushed", replication.flushed), ("applied", replication.applied)] {
            gauge("lag", "records", "Records the primary has that this stage has not", stage: name).set(Double(stage.recordsBehind))
            if let seconds = stage.secondsBehind {
                gauge("lag", "seconds", "Primary's clock minus the commit time of this stage's last record", stage: name).set(seconds)
            }
        }
        if let silence = replication.secondsSincePrimaryContact {
            gauge("primary_contact_age", "seconds", "Seconds since the primary last said anything; grows while disconnected or stalled")
                .set(silence)
        }
        // One series per kind, 0 without that fault, so `== 1` alerts need no absent() clause.
        for kind in StandbyFault.Kind.allCases {
            registry.makeGauge(
                descriptor: Self.name("fault", "", "1 while the standby is offline after this kind of fault (mirrorWrite, apply, rejected, diverged)"),
                labels: [("kind", kind.rawValue)]
            ).set(replication.offline?.fault?.kind == kind ? 1.0 : 0.0)
        }
        gauge("diverged", "", "1 while the standby has stopped applying because its content digest differed from the primary's")
            .set(replication.offline?.fault?.kind == .diverged ? 1.0 : 0.0)
        gauge("apply_paused", "", "1 while the standby's apply is paused (`standby pause`), reached or not").set(replication.paused != nil ? 1.0 : 0.0)
        gauge("apply_delay", "seconds", "The standby's --apply-delay (0 without one)").set(replication.delay?.seconds ?? 0)
        gauge("held", "records", "Flushed records not applied yet (held by the apply delay or a pause, or in the apply's queue)")
            .set(Double(replication.applied.seqno.distance(to: max(replication.flushed.seqno, replication.applied.seqno))))
        guard let apply = replication.apply else { return }
        count("received_bytes", "Tranlog bytes received from the primary since the standby started", apply.receivedBytesTotal)
        count("applied_bytes", "Tranlog bytes applied since the standby started", apply.appliedBytesTotal)
        count("applied_records", "Records applied since the standby started", apply.appliedRecordsTotal)
        gauge("apply_records", "per_second", "Records applied per second over the last 10 s").set(apply.recordsPerSecond)
        gauge("apply_bytes", "per_second", "Tranlog bytes applied per second over the last 10 s").set(apply.bytesPerSecond)
        gauge("primary_records", "per_second", "The primary's commits per second over the last 10 s").set(apply.primaryRecordsPerSecond)
        // +Inf when not catching up, so `> threshold` alerts cover both a slow and a hopeless catch-up.
        gauge("catch_up", "seconds", "Estimated seconds until applied reaches the primary; +Inf when not catching up")
            .set(apply.catchUpSeconds ?? .infinity)
    }

    /// One series per state, 1 for the current one and 0 for every other, so a dashboard can graph
    /// each state and an alert on one needs no absent() clause.
    private func exportState(_ state: String) {
        for name in ReplicationLag.State.allCases.map(\.rawValue) + ["offline"] {
            registry.makeGauge(
                descriptor: Self.name("state", "", "1 for the standby's current state (streaming, catching-up, idle, stalled, disconnected, offline)"),
                labels: [("state", name)]
            ).set(name == state ? 1.0 : 0.0)
        }
    }

    /// `understudy_replication_NAME_total`, raised to `total` (counters only go up: `rate()` them).
    private func count(_ name: String, _ help: String, _ total: UInt64) {
        let grown = exported.withLock { exported in
            defer { exported[name] = max(exported[name] ?? 0, total) }
            return total > (exported[name] ?? 0) ? total - (exported[name] ?? 0) : 0
        }
        registry.makeCounter(descriptor: Self.name(name, "total", help)).increment(by: Int64(clamping: grown))
    }

    private func gauge(_ name: String, _ unit: String, _ help: String, stage: String? = nil) -> Gauge {
        registry.makeGauge(descriptor: Self.name(name, unit, help), labels: stage.map { [("stage", $0)] } ?? [])
    }

    /// `understudy_replication_NAME_UNIT`.
    private static func name(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "understudy", subsystem: "replication", metricName: name, unitName: unit, helpText: help)
    }
}
