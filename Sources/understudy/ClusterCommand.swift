import ArgumentParser
import Cluster
import Foundation
import Logging
import Node

/// `understudy cluster status`: a cluster on etcd as its members published it.
struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Look at a cluster of nodes managed by `understudy join` on etcd.",
        subcommands: [ClusterStatusCommand.self, ClusterSwitchoverCommand.self])
}

/// `--etcd URL[,URL…] --cluster NAME`, shared by the `cluster` verbs.
struct ClusterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("etcd's client URLs, comma-separated.", valueName: "URL[,URL…]"))
    var etcd: String

    @Option(help: ArgumentHelp("The cluster's name.", valueName: "NAME"))
    var cluster: String

    func withClient<Value>(_ body: (EtcdClient) throws -> Value) throws -> Value {
        let client: EtcdClient
        do { client = try EtcdClient(commaSeparated: etcd, logger: Logger(label: "understudy.cluster")) } catch {
            throw ValidationError("\(error)")
        }
        defer { client.close() }
        return try body(client)
    }
}

struct ClusterStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Members, roles, epochs, lag per stage, and who holds the leader lease for how long.",
        discussion: """
            Reads /understudy/NAME/ in etcd: the leader key and its lease, the last epoch claimed, and each \
            member's key (refreshed each second by its node; a member whose node is gone disappears after \
            its TTL). Lag is in records behind the leader's applied seqno. Exit status 1 when etcd cannot \
            be read.
            """)

    @OptionGroup var options: ClusterOptions

    @Flag(help: "Print the status as one JSON object.")
    var json = false

    func run() throws {
        let view = try options.withClient { client in
            do { return try ClusterView.read(client, cluster: options.cluster) } catch {
                printToStandardError("Error: \(error)")
                throw ExitCode.failure
            }
        }
        if json { return print(try jsonLine(view)) }
        print(Self.lines(view).joined(separator: "\n"))
    }

    static func lines(_ view: ClusterView) -> [String] {
        var lines: [String] = []
        if let leader = view.leader {
            let lease = view.leaseRemainingSeconds.map { "lease \($0) s left of \(view.leaseTTLSeconds ?? 0) s" } ?? "lease gone"
            lines.append("cluster \(view.cluster): leader \(leader.name) (epoch \(leader.epoch), \(lease))")
        } else {
            lines.append("cluster \(view.cluster): NO LEADER" + (view.lastClaim.map { " (last: \($0.node), epoch \($0.epoch))" } ?? ""))
        }
        let header = ["MEMBER", "ROLE", "EPOCH", "APPLIED", "FLUSHED", "LAG-FLUSHED", "LAG-APPLIED", "ELIGIBLE", "SYNC", "HTTP", "STATE"]
        let rows = view.members.map { member in
            let record = member.record
            return [record.name, record.role, "\(record.epoch)", "\(record.appliedSeqno)", "\(record.flushedSeqno)",
                    member.flushedLagRecords.map(String.init) ?? "?", member.appliedLagRecords.map(String.init) ?? "?",
                    record.eligible ? "yes" : "no", record.synchronous ? "yes" : "no", record.http, record.state]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            lines.append(row.indices.map { $0 == row.count - 1 ? row[$0] : row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  "))
        }
        for loss in view.losses { lines.append("LOSS at \(loss.at): \(loss.summary)") }
        return lines
    }
}

/// `understudy cluster switchover --to NODE`: a planned change of leader with no loss.
struct ClusterSwitchoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchover",
        abstract: "Hand the leader lease to a standby: the leader holds commits until it has them all, then the standby promotes.",
        discussion: """
            Writes /understudy/NAME/switchover under a lease of --timeout seconds. The leader then holds \
            commits (refused with 503 and Understudy-Primary), waits until NODE has flushed everything it \
            made durable (at most 10 s, else it resumes and the switchover is abandoned), and gives up the \
            lease; only NODE may take it. The old leader re-seeds itself as a standby of NODE. Prints how \
            long it took, until NODE accepts writes; exit status 1 if it does not within --timeout.
            """)

    @OptionGroup var options: ClusterOptions

    @Option(help: ArgumentHelp("The standby to hand the lease to.", valueName: "NODE"))
    var to: String

    @Option(help: ArgumentHelp("Give up after this many seconds (default 60).", valueName: "SECONDS"), transform: ArgumentParsing.wholeSeconds(from: 1))
    var timeout = 60

    func run() throws {
        try options.withClient { client in
            let view = try read(client)
            guard let leader = view.leader else { throw ValidationError("cluster \(options.cluster) has no leader to switch over from") }
            guard leader.name != to else { throw ValidationError("\(to) already leads cluster \(options.cluster)") }
            guard let target = view.members.first(where: { $0.record.name == to })?.record, target.role == "standby", target.eligible else {
                throw ValidationError("\(to) is no eligible standby of cluster \(options.cluster) (see `understudy cluster status`)")
            }
            let started = ContinuousClock.now
            let request = Array(try jsonLine(SwitchoverRequest(from: leader.name, to: to)).utf8)
            try etcd { () throws(EtcdError) in
                let lease = try client.grantLease(ttlSeconds: Int64(timeout))
                try client.put(ClusterKeys(cluster: options.cluster).switchover, value: request, lease: lease.id)
            }
            while ContinuousClock.now - started < .seconds(timeout) {
                if let now = try read(client).leader, now.name == to, try acceptsWrites(now) {
                    let milliseconds = (ContinuousClock.now - started).components.seconds * 1000
                        + (ContinuousClock.now - started).components.attoseconds / 1_000_000_000_000_000
                    return print("switchover from \(leader.name) to \(to) done in \(milliseconds) ms (epoch \(now.epoch))")
                }
                Thread.sleep(forTimeInterval: 0.02)
            }
            printToStandardError("Error: \(to) did not take the lease within \(timeout) s; see `understudy cluster status`")
            throw ExitCode.failure
        }
    }

    /// Whether the new leader has promoted and proves its lease: its commits are no longer held.
    private func acceptsWrites(_ leader: LeaderRecord) throws -> Bool {
        let client = try NodeClient(url: "http://\(leader.http)", timeout: .seconds(2))
        defer { client.close() }
        do { return try client.status().cluster.map { $0.commitsHeld == nil } ?? false } catch { return false }
    }

    private func read(_ client: EtcdClient) throws -> ClusterView {
        do { return try ClusterView.read(client, cluster: options.cluster) } catch {
            printToStandardError("Error: \(error)")
            throw ExitCode.failure
        }
    }

    private func etcd(_ body: () throws(EtcdError) -> Void) throws {
        do { try body() } catch {
            printToStandardError("Error: \(error)")
            throw ExitCode.failure
        }
    }
}
