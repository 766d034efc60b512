import Prometheus
import Repository
import Tranlog
import Transport

/// The node's Prometheus metrics, in a registry the node owns (no process-global metrics system, so
/// two nodes in one test process never share counters). Event counts are recorded as they happen;
/// repository gauges are refreshed from `RepositoryStatus` at each scrape.
final class NodeMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let commits: Counter
    private let conflicts: Counter
    private let commitDuration: DurationHistogram
    private let appliedSeqno: Gauge
    private let objects: Gauge
    private let logBytesSinceCheckpoint: Gauge
    private let checkpoints: Counter
    /// The manifest generation last seen: each checkpoint advances it by one, so the difference
    /// counts the checkpoints taken since, however they were triggered.
    private let lastManifestGeneration: Locked<UInt64>
    private let replication: ReplicationMetrics
    private let synchronousFallbacks: Counter
    /// Whether the synchronous state series exist: once exported, they stay (at 0 while asynchronous).
    private let synchronousExported = Locked(false)
    /// Each route and status's counter, made once: `makeCounter` builds the series' name and labels
    /// and looks them up on every call, about a tenth of a lone commit's completion-thread CPU.
    /// Routes are the router's patterns and statuses the API's, so the map stays small.
    private let requestCounters = Locked<[RequestSeries: Counter]>([:])
    private struct RequestSeries: Hashable {
        let route: String
        let status: Int
    }

    init(initial status: RepositoryStatus) {
        commits = registry.makeCounter(descriptor: Self.name("commits", "total", "Commits made durable"))
        conflicts = registry.makeCounter(
            descriptor: Self.name("commit_conflicts", "total", "Commits refused because a precondition did not hold"))
        commitDuration = registry.makeDurationHistogram(
            descriptor: Self.name("commit_duration", "seconds", "From the commit request to its durable acknowledgement"),
            buckets: Self.commitBuckets)
        appliedSeqno = registry.makeGauge(descriptor: Self.name("applied_seqno", "", "Seqno of the last record applied"))
        objects = registry.makeGauge(descriptor: Self.name("objects", "", "Objects in the repository"))
        logBytesSinceCheckpoint = registry.makeGauge(
            descriptor: Self.name("log_since_checkpoint", "bytes", "Tranlog bytes written since the last checkpoint"))
        checkpoints = registry.makeCounter(descriptor: Self.name("checkpoints", "total", "Checkpoints taken since the node started"))
        lastManifestGeneration = Locked(status.checkpoint.manifestGeneration)
        replication = ReplicationMetrics(registry: registry)
        synchronousFallbacks = registry.makeCounter(
            descriptor: Self.name("synchronous_fallbacks", "total", "Times synchronous replication fell back to acknowledging commits asynchronously"))
    }

    /// `understudy_NAME_UNIT`.
    private static func name(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "understudy", metricName: name, unitName: unit, helpText: help)
    }

    /// Group commit puts most commits in the low milliseconds; the tail shows slow disks.
    private static let commitBuckets: [Duration] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500].map { .milliseconds($0) }

    func recordCommit(duration: Duration) {
        commits.increment()
        commitDuration.record(duration)
    }

    /// After each archiver step (`--archive-dir`): the series exist only on a node that archives.
    func recordArchive(_ status: ArchiveStatus, failed: Bool = false) {
        registry.makeGauge(descriptor: Self.name("archive_backlog", "files", "Completed tranlogs not archived yet"))
            .set(Double(status.backlogFiles))
        registry.makeGauge(descriptor: Self.name("archive_last_fileid", "", "Highest fileId in the archive directory"))
            .set(Double(status.lastArchivedFileID?.rawValue ?? 0))
        let failures = registry.makeCounter(descriptor: Self.name("archive_failures", "total", "Failed attempts to archive a tranlog"))
        if failed { failures.increment() }
    }

    func recordSynchronousFallback() {
        synchronousFallbacks.increment()
    }

    /// `understudy_synchronous_state{state}`: 1 for the current state, 0 for the others (all 0 once
    /// asynchronous again); nothing on a node that never required synchronous standbys.
    func recordSynchronous(_ status: SynchronousReplicationStatus?) {
        let exported = synchronousExported.withLock { exported in
            defer { exported = exported || status != nil }
            return exported || status != nil
        }
        guard exported else { return }
        for state in SynchronousState.allCases {
            registry.makeGauge(
                descriptor: Self.name("synchronous_state", "", "1 for synchronous replication's current state (synchronous, waiting, fallback)"),
                labels: [("state", state.rawValue)]
            ).set(status?.state == state ? 1.0 : 0.0)
        }
    }

    /// `understudy_role{role}` (one series per role, 1 for the current one), `understudy_epoch` and
    /// `understudy_restore_mode`: what a failover dashboard shows first.
    func recordRole(_ status: NodeStatus) {
        for role in NodeRole.allCases {
            registry.makeGauge(
                descriptor: Self.name("role", "", "1 for the node's current role (primary, standby, restoring, promoting, fenced)"),
                labels: [("role", role.rawValue)]
            ).set(status.role == role.rawValue ? 1.0 : 0.0)
        }
        registry.makeGauge(descriptor: Self.name("epoch", "", "The repository's current epoch")).set(Double(status.repository.epoch.rawValue))
        registry.makeGauge(descriptor: Self.name("restore_mode", "", "1 while the repository is in restore mode (a standby, a manual restore)"))
            .set(status.repository.restoring ? 1.0 : 0.0)
    }

    func recordConflict() {
        conflicts.increment()
    }

    func recordRequest(route: String, status: Int) {
        let series = RequestSeries(route: route, status: status)
        let counter = requestCounters.withLock { counters in
            if let counter = counters[series] { return counter }
            let counter = registry.makeCounter(
                descriptor: Self.name("http_requests", "total", "HTTP requests answered, by route and status"),
                labels: [("route", route), ("status", String(status))])
            counters[series] = counter
            return counter
        }
        counter.increment()
    }

    /// The text exposition, gauges brought up to date first (a standby's lag gauges too).
    func exposition(refreshedFrom status: RepositoryStatus, replication standby: StandbyReplicationStatus? = nil) -> [UInt8] {
        if let standby { replication.refresh(from: standby) }
        appliedSeqno.set(Double(status.applied.seqno.rawValue))
        objects.set(Double(status.objectCount))
        logBytesSinceCheckpoint.set(Double(status.checkpoint.logBytesSinceCheckpoint))
        let taken = lastManifestGeneration.withLock { last in
            defer { last = max(last, status.checkpoint.manifestGeneration) }
            return status.checkpoint.manifestGeneration > last ? status.checkpoint.manifestGeneration - last : 0
        }
        if taken > 0 { checkpoints.increment(by: Int64(taken)) }
        if let heap = HeapStatistics.read() { recordHeap(heap) }
        return registry.emitToBuffer()
    }

    private func recordHeap(_ heap: HeapStatistics) {
        registry.makeGauge(descriptor: Self.name("heap_allocated", "bytes", "Bytes the node holds in heap allocations"))
            .set(Double(heap.allocatedBytes))
        registry.makeGauge(descriptor: Self.name("heap_resident", "bytes", "Physical memory the heap allocator keeps mapped"))
            .set(Double(heap.residentBytes))
    }

    /// `understudy_fenced` (1 while a fence is in force) and `understudy_highest_epoch_seen`.
    func recordFence(_ fence: FenceState?, highestEpochSeen: Epoch) {
        registry.makeGauge(descriptor: Self.name("fenced", "", "1 while this node is fenced: it learned of a newer epoch and refuses commits"))
            .set(fence == nil ? 0.0 : 1.0)
        registry.makeGauge(descriptor: Self.name("highest_epoch_seen", "", "The newest epoch this node knows of: its own, or the one fencing it"))
            .set(Double(highestEpochSeen.rawValue))
    }

    /// Retention gauges from a primary's status (nothing on a node serving no standbys): per standby
    /// the bytes kept for it and its lag in records and seconds, and the runway under `--max-retained-mbytes`.
    func recordRetention(_ status: NodeStatus) {
        for standby in status.standbys ?? [] {
            guard let name = standby.standby?.name else { continue }
            let labels = [("standby", name)]
            registry.makeGauge(descriptor: Self.name("standby_retained", "bytes", "Tranlog bytes kept for a known standby"), labels: labels)
                .set(Double(standby.retainedBytes ?? 0))
            registry.makeGauge(descriptor: Self.name("standby_lag", "records", "Records a known standby has not applied"), labels: labels)
                .set(Double(standby.lagRecords ?? 0))
            if let seconds = standby.lagSeconds {
                registry.makeGauge(
                    descriptor: Self.name("standby_lag", "seconds", "Primary's clock minus the commit time of a known standby's last applied record"),
                    labels: labels
                ).set(seconds)
            }
            registry.makeGauge(descriptor: Self.name("standby_connected", "", "1 while a known standby is connected"), labels: labels)
                .set(standby.state == "disconnected" ? 0.0 : 1.0)
            registry.makeGauge(
                descriptor: Self.name("standby_slot_expired", "", "1 once a known standby was not heard from for --standby-slot-expiry: its tranlogs are no longer kept"),
                labels: labels
            ).set(standby.slotExpired == true ? 1.0 : 0.0)
            registry.makeGauge(
                descriptor: Self.name("standby_compression", "ratio", "Tranlog bytes per byte sent to a standby (1 without --compress)"), labels: labels)
                .set(standby.compressionRatio)
        }
        guard let retention = status.retention else { return }
        registry.makeGauge(descriptor: Self.name("tranlog_retained", "bytes", "Tranlog bytes kept for standbys")).set(Double(retention.retainedBytes))
        if let runway = retention.runwayBytes {
            registry.makeGauge(descriptor: Self.name("retention_runway", "bytes", "Bytes left under --max-retained-mbytes")).set(Double(runway))
        }
        if let seconds = retention.runwaySeconds {
            registry.makeGauge(descriptor: Self.name("retention_runway", "seconds", "Seconds left under --max-retained-mbytes at the recent log growth"))
                .set(seconds)
        }
    }
}
