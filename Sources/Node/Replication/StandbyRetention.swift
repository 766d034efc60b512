import Dispatch
import Logging
import Replication
import Repository
import Tranlog
import Transport

/// The primary's bookkeeping of the tranlog it keeps for standbys: records each admitted standby's
/// progress in `KnownStandbys` (hence `standbys.json`), samples the log's growth, and builds the
/// `standbys` rows and `retention` summary of `GET /status`. Loop-confined, like the shippers that
/// feed it, except for its file work: `standbys.json` writes (throttled to about one a second, see
/// `KnownStandbys`) and the log's size samples run in order on a queue of their own, because a loop
/// thread serves every socket and must never wait for a disk.
final class StandbyRetention {
    let repository: Repository
    private let logger: Logger
    private let files = DispatchQueue(label: "understudy.standby-retention")
    private let growth = Locked(LogGrowth())
    /// The commit time of each standby's last applied record, as its shipper knew it: its lag in
    /// seconds by `LagRule`, kept after it disconnects so the lag of a known standby keeps growing.
    private var appliedTimes: [String: Timestamp] = [:]

    init(repository: Repository, logger: Logger) {
        self.repository = repository
        self.logger = logger
    }

    /// A shipper admitted a standby or received its ack.
    func progressed(_ status: ShipperStatus) {
        guard let nodeID = status.standby?.name, let retainFrom = status.retainFrom else { return }
        if let time = status.appliedTime { appliedTimes[nodeID] = time }
        files.async { [repository, logger] in
            // Before its first ack, a standby's flushed position is where its hello said its mirror ends.
            let previous = repository.knownStandbys.all.first { $0.nodeID == nodeID }
            let acked = status.lastAckTime != nil
            let known = KnownStandby(
                nodeID: nodeID, address: "\(status.peer)", flushedSeqno: acked ? status.acked.flushed : status.sentSeqno,
                appliedSeqno: acked ? status.acked.applied : previous?.appliedSeqno ?? .zero,
                neededFileID: retainFrom.fileID, lastSeen: status.lastAckTime ?? .now())
            do { try repository.knownStandbys.record(known) } catch {
                logger.error("cannot record the standby's position; its tranlogs stay protected by the last one recorded", metadata: ["standby": "\(nodeID)", "error": "\(error)"])
            }
        }
    }

    /// About once a second: writes throttled positions, samples the log's growth.
    func tick() {
        files.async { [repository, logger, growth] in
            do { try repository.knownStandbys.flush() } catch {
                logger.error("cannot write standbys.json", metadata: ["error": "\(error)"])
            }
            do {
                let files = try repository.tranlogFiles()
                growth.withLock { $0.sample(files, at: .now) }
            } catch {
                logger.debug("cannot list the tranlogs to sample their growth", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Waits for the file work queued so far (a clean shutdown's last `standbys.json`).
    func drain() {
        files.sync {}
    }

    /// The primary's last durable seqno, from the visible state (`appliedPosition`, which does not
    /// wait for a checkpoint in progress): this runs on the loop at every ack.
    private var durableSeqno: Seqno { repository.appliedPosition.seqno }

    /// One row per connected standby and per known one that is not connected.
    func rows(connected: [ShipperStatus], retention: TranlogRetention?) -> [StandbyConnectionStatus] {
        let durable = durableSeqno
        let known = Dictionary(repository.knownStandbys.all.map { ($0.nodeID, $0) }) { _, last in last }
        let expired = Set(repository.expiredStandbys().map(\.nodeID))
        var rows = connected.map { status in
            var row = StandbyConnectionStatus(status)
            if let nodeID = status.standby?.name, let record = known[nodeID] {
                describe(&row, record, retention, durable: durable, expired: expired.contains(nodeID))
            }
            return row
        }
        let connectedIDs = Set(connected.compactMap { $0.standby?.name })
        for record in known.values where !connectedIDs.contains(record.nodeID) {
            var row = StandbyConnectionStatus(disconnected: record)
            describe(&row, record, retention, durable: durable, expired: expired.contains(record.nodeID))
            rows.append(row)
        }
        return rows.sorted { ($0.standby?.name ?? $0.peer, $0.peer) < ($1.standby?.name ?? $1.peer, $1.peer) }
    }

    private func describe(
        _ row: inout StandbyConnectionStatus, _ record: KnownStandby, _ retention: TranlogRetention?, durable: Seqno, expired: Bool
    ) {
        row.slotExpired = expired
        row.lagRecords = record.appliedSeqno.distance(to: max(durable, record.appliedSeqno))
        // The primary knows its own last record: a standby holding it is 0 behind, connected or not.
        row.lagSeconds = row.lagRecords == 0 ? 0 : LagRule.secondsBehind(primaryNow: .now(), committed: appliedTimes[record.nodeID])
        row.neededFileID = record.neededFileID
        row.retainedBytes = retention?.bytes(from: record.neededFileID)
        row.lastSeen = record.lastSeen
        row.logsRemoved = retention.map { $0.hasLost(record) }
    }

    /// The `retention` summary of `GET /status`.
    func summary(_ retention: TranlogRetention?) -> RetentionStatus? {
        guard let retention else { return nil }
        let limit = repository.configuration.maxRetainedBytes
        let runway = limit.map { retention.runwayBytes(maxRetainedBytes: $0) }
        let rate = growth.withLock { $0.bytesPerSecond(at: .now) }
        return RetentionStatus(
            retainedBytes: retention.bytesHeldForStandbys, maxRetainedBytes: limit, runwayBytes: runway, logBytesPerSecond: rate,
            runwaySeconds: runway.flatMap { bytes in rate.flatMap { $0 > 0 ? Double(bytes) / $0 : nil } })
    }
}
