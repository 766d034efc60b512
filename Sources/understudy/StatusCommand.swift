import Foundation
import ArgumentParser
import Node

/// `understudy status`: what a running node reports about itself and its repository.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a running node's role, positions, checkpoint and restore status.")

    @OptionGroup var node: NodeOptions

    @Flag(help: "Print the status as JSON (what GET /status answers); with --watch, one JSON line per refresh.")
    var json = false

    @Flag(help: "Refresh until Ctrl-C: redrawn in place on a terminal, one line per refresh otherwise.")
    var watch = false

    @Option(help: ArgumentHelp("Seconds between refreshes with --watch.", valueName: "S"), transform: ArgumentParsing.seconds)
    var interval = 1.0

    @Option(help: ArgumentHelp("With --watch, stop after this many refreshes.", valueName: "N"))
    var count: Int?

    func validate() throws {
        if count != nil && !watch { throw ValidationError("--count applies only with --watch") }
        if let count, count < 1 { throw ValidationError("--count must be 1 or more") }
    }

    func run() throws {
        if watch {
            return try StatusWatch(url: node.url, tls: node.tls.configuration, interval: ArgumentParsing.duration(seconds: interval), count: count, json: json).run()
        }
        let status: NodeStatus
        do { status = try node.withClient { try $0.status() } } catch {
            if try printBaseCopyPhase() { return }
            throw error
        }
        if json { return print(try jsonDocument(status)) }
        let repository = status.repository
        let applied = repository.applied
        let checkpoint = repository.checkpoint
        printFields([
            "role": status.role,
            "repository": "\(repository.repositoryID)",
            "source id": "\(repository.sourceID)",
            "logging mode": repository.loggingMode.rawValue,
            "epoch": "\(repository.epoch)",
            "applied": "seqno \(applied.seqno)" + (applied.eventID.map { " at \($0)" } ?? "") + (applied.time.map { ", \($0)" } ?? ""),
            "objects": "\(repository.objectCount)",
            "digest": "\(repository.digest.value) at seqno \(repository.digest.seqno)",
            "checkpoint": "seqno \(checkpoint.position.seqno), manifest generation \(checkpoint.manifestGeneration), "
                + "\(checkpoint.runCount) runs" + (checkpoint.inProgress ? " (one in progress)" : ""),
            "since checkpoint": "\(checkpoint.logBytesSinceCheckpoint) tranlog bytes",
            "oldest needed": checkpoint.oldestFileIDNeeded.fileName,
            "writes": repository.writesRefused.map { "refused: \($0)" } ?? "accepted",
            "http": status.httpAddress,
            "replication": status.replicationAddress ?? "not listening for standbys",
            "uptime": StatusWatchView.wholeSeconds(status.uptimeSeconds),
            "version": status.version,
        ])
        if let fenced = status.fenced {
            print("fenced: \(fenced.message) (learned from \(fenced.learnedFrom), since \(fenced.since)); "
                + "no commit past seqno \(fenced.acknowledgedThrough) was acknowledged here")
        }
        if let replication = status.replication { printReplication(replication) }
        if let archive = status.archive { print(ArchiveStatusLines.archive(archive)) }
        if let warm = status.warmStandby { print(ArchiveStatusLines.warmStandby(warm)) }
        for standby in status.standbys ?? [] {
            print(StatusWatchView.standbyRow(standby, primarySeqno: applied.seqno))
        }
        if let retention = status.retention { print(StatusWatchView.retentionLine(retention)) }
        if let synchronous = status.synchronous { print(synchronous.summary) }
        print(status.restoreStatus)
    }

    /// A standby's lag per stage, as records, bytes and seconds behind its primary.
    private func printReplication(_ replication: StandbyReplicationStatus) {
        let stage = StatusWatchView.stage
        printFields([
            "replication": "\(replication.state) from \(replication.primary) (receiver \(replication.receiver))"
                + (replication.lastRejection.map { "; refused: \($0)" } ?? ""),
            "received": stage(replication.received),
            "flushed": stage(replication.flushed),
            "applied": stage(replication.applied),
        ])
        if let offline = replication.offline {
            printFields(["offline": "since \(offline.since.iso8601) at seqno \(offline.appliedSeqno): \(offline.detail)"])
        }
        if let stop = replication.offlineAtSeqno { printFields(["offline at": "seqno \(stop) (pending)"]) }
        if let paused = replication.paused { printFields(["paused": pauseLine(paused)]) }
        if let delay = replication.delay { printFields(["apply delay": delayLine(delay)]) }
        if let refusal = replication.refusal {
            printFields(["refusal": "since \(refusal.since.iso8601), \(refusal.count) time(s): \(refusal.message)"])
        }
        if let silence = replication.secondsSincePrimaryContact, replication.state != "streaming", replication.state != "idle",
            replication.state != "catching-up"
        {
            printFields(["primary": String(format: "last heard %.1f s ago", silence)])
        }
    }
}
