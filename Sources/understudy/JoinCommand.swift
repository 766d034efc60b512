import ArgumentParser
import Cluster
import Foundation
import Logging
import Node
import Repository
import SystemPackage
import Transport

/// `understudy join --data DIR --name NODE --etcd URL[,URL…] --cluster NAME`: a node whose role the
/// cluster decides (docs/OPERATIONS.md, "Run a managed cluster on etcd").
struct JoinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Run a node whose role a cluster on etcd decides: primary while it holds the leader lease, else a standby.",
        discussion: """
            The node publishes /understudy/NAME/members/NODE in etcd and contends for /understudy/NAME/leader, a \
            key under a lease of --ttl seconds. Holding it, the node runs as the primary (promoting itself first \
            if it was a standby); else it follows the holder as a standby, re-pointing without a restart when \
            the leader changes. The leader holds commits as soon as it cannot prove it still holds the lease. An \
            empty DIR is filled by a base copy from the leader. A replaced primary that returns is fenced and, \
            unless --no-auto-reseed, re-seeded as a standby (its old directory is kept beside DIR).

            Logs go to stderr. Once the supervisor runs, one line goes to stdout:
              understudy member ready: name=NODE cluster=NAME http=HOST:PORT replication=HOST:PORT
            SIGTERM or SIGINT stop the node cleanly and give up its leases.
            """)

    @Option(help: ArgumentHelp("The data directory: a repository, or missing/empty to copy a base from the leader.", valueName: "DIR"))
    var data: String

    @Option(help: ArgumentHelp("This node's name, unique in the cluster.", valueName: "NODE"))
    var name: String

    @Option(help: ArgumentHelp("etcd's client URLs, comma-separated.", valueName: "URL[,URL…]"))
    var etcd: String

    @Option(help: ArgumentHelp("The cluster's name: its keys live under /understudy/NAME/.", valueName: "NAME"))
    var cluster: String

    @Option(help: ArgumentHelp("The leader lease's TTL in seconds (default 10): a dead leader is replaced within about this long.",
                               valueName: "SECONDS"), transform: ArgumentParsing.wholeSeconds(from: 1))
    var ttl = 10

    @Option(help: ArgumentHelp("Where the HTTP API listens.", valueName: "HOST:PORT"), transform: NodeRunner.address)
    var http = SocketAddress(host: "127.0.0.1", port: NodeConfiguration.defaultHTTPPort)

    @Option(help: ArgumentHelp("Where standbys connect to this node while it leads.", valueName: "HOST:PORT"), transform: NodeRunner.address)
    var replication = SocketAddress(host: "127.0.0.1", port: 7481)

    @Option(name: .customLong("replication-key-file"), help: ArgumentHelp(
        "The cluster's replication secret (mode 0600). " + HardeningOptions.rotationHelp, valueName: "KEYFILE"))
    var replicationKeyFiles: [String] = []

    @Flag(name: .customLong("no-auto-reseed"), help: "A replaced primary that returns stays fenced and waits, instead of re-seeding itself.")
    var noAutoReseed = false

    @OptionGroup var checkpoints: CheckpointOptions
    @OptionGroup var serving: ServingOptions
    @OptionGroup var synchronous: SynchronousOptions
    @OptionGroup(title: "Limits") var hardening: HardeningOptions
    @OptionGroup(title: "TLS") var tls: NodeTLSOptions

    func validate() throws {
        try HardeningOptions.validate(keyFiles: replicationKeyFiles)
    }

    func run() throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let logger = Logger(label: "understudy")
        let signals = TerminationSignals()
        var node = NodeConfiguration(dataDirectory: DataDirectory(FilePath(data)))
        node.httpAddress = http
        node.replicationAddress = replication
        HardeningOptions.apply(keyFiles: replicationKeyFiles, to: &node)
        node.stopRequested = signals.arrived
        checkpoints.apply(to: &node)
        serving.apply(to: &node)
        synchronous.apply(to: &node)
        hardening.apply(to: &node)
        tls.apply(to: &node)
        var configuration = ClusterConfiguration(cluster: cluster, name: name, node: node)
        configuration.ttl = .seconds(ttl)
        configuration.autoReseed = !noAutoReseed
        if let problem = configuration.validate() { throw ValidationError(problem) }
        do { try node.checkReplicationKeyFiles() } catch {
            // A refusal no restart can fix: the exit status that makes systemd stop retrying.
            printToStandardError("Error: \(error)")
            throw ExitCode(NodeRunner.refusedExitStatus)
        }
        let client: EtcdClient
        do { client = try EtcdClient(commaSeparated: etcd, timeout: configuration.tickInterval, logger: logger) } catch {
            throw ValidationError("\(error)")
        }
        defer { client.close() }
        let supervisor = ClusterSupervisor(configuration: configuration, etcd: client, logger: logger)
        // SIGHUP: the supervisor reads the TLS files again at its next tick (its node changes with its role).
        signal(SIGHUP, SIG_IGN)
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hangup.setEventHandler { supervisor.requestTLSReload() }
        hangup.resume()
        defer { hangup.cancel() }
        supervisor.start()
        writeToStandardOutput(Array(
            "understudy member ready: name=\(name) cluster=\(cluster) http=\(http) replication=\(replication)\n".utf8))
        let signal = signals.wait()
        logger.info("stopping on a signal", metadata: ["signal": "\(signal)"])
        supervisor.stop()
    }
}
