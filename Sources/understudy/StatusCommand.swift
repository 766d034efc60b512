import Foundation
import ArgumentParser
import Node

/// `understudy status`: what a running node reports about itself and its repository.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a running node's role, positions, checkpoint and restore status.")

    @OptionGroup var node: NodeOptions

    @Flag(help: "Print the status as JSON (what GET /status answers).")
    var json = false

    func run() throws {
        let status = try node.withClient { try $0.status() }
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
            "checkpoint": "seqno \(checkpoint.position.seqno), manifest generation \(checkpoint.manifestGeneration), "
                + "\(checkpoint.runCount) runs" + (checkpoint.inProgress ? " (one in progress)" : ""),
            "since checkpoint": "\(checkpoint.logBytesSinceCheckpoint) tranlog bytes",
            "oldest needed": checkpoint.oldestFileIDNeeded.fileName,
            "writes": repository.writesRefused.map { "refused: \($0)" } ?? "accepted",
            "http": status.httpAddress,
            "replication": status.replicationAddress,
            "uptime": "\(Int(status.uptimeSeconds)) s",
            "version": status.version,
        ])
        if let replication = status.replication { printReplication(replication) }
        for standby in status.standbys ?? [] { print(standbyRow(standby)) }
        if let retention = status.retention { print(retentionLine(retention)) }
        print(status.restoreStatus)
    }

    /// A standby's lag per stage, as records, bytes and seconds behind its primary.
    private func printReplication(_ replication: StandbyReplicationStatus) {
        func stage(_ stage: StandbyReplicationStatus.Stage) -> String {
            "seqno \(stage.seqno), \(stage.recordsBehind) records"
                + (stage.bytesBehind.map { ", \($0) bytes" } ?? "")
                + (stage.secondsBehind.map { String(format: ", %.3f s", $0) } ?? "") + " behind"
        }
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
    }
}
