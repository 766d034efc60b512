import ArgumentParser
import Cluster
import Foundation
import Logging

/// `understudy cluster status`: a cluster on etcd as its members published it.
struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Look at a cluster of nodes managed by `understudy join` on etcd.",
        subcommands: [ClusterStatusCommand.self])
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
                FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
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
        return lines
    }
}
