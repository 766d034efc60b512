import ArgumentParser
import Foundation
import Node
import Repository
import SystemPackage
import Transport

/// `understudy start --data DIR`: runs a node in the foreground until SIGTERM or SIGINT, then stops
/// cleanly (final checkpoint, shutdown record) and exits 0. With `--restore-mode` the repository is
/// put into restore mode first (the manual's `startstone -R`).
struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Run a node on a data directory, in the foreground.",
        discussion: """
            Logs go to stderr. Once serving, one line goes to stdout:
              understudy ROLE ready: http=HOST:PORT repository=ID [replication=HOST:PORT]
            ROLE being `primary`, or `restoring` in restore mode (with the real port when --http or \
            --replication ask for port 0). SIGTERM or SIGINT stop the node cleanly.

            With --replication-key-file the node serves standbys (`understudy standby`) on --replication; \
            without it replication is off.

            --restore-mode puts the repository into restore mode before opening it: commits are refused, \
            and `understudy restore backup|logs|commit` drive the restore. Restore mode lasts, across \
            restarts, until `restore commit`.
            """)

    @Option(help: ArgumentHelp("The data directory, created by `understudy init`.", valueName: "DIR"))
    var data: String

    @Option(help: ArgumentHelp("Where the HTTP API listens (port 0: any free port).", valueName: "HOST:PORT"),
            transform: NodeRunner.address)
    var http = SocketAddress(host: "127.0.0.1", port: NodeConfiguration.defaultHTTPPort)

    @Option(help: ArgumentHelp("Where standbys connect (port 0: any free port).", valueName: "HOST:PORT"),
            transform: NodeRunner.address)
    var replication = SocketAddress(host: "127.0.0.1", port: 7481)

    @Option(name: .customLong("replication-key-file"), help: ArgumentHelp(
        "The secret shared with standbys (at least 16 bytes, mode 0600). Without it replication is off. "
            + HardeningOptions.rotationHelp, valueName: "KEYFILE"))
    var replicationKeyFiles: [String] = []

    @OptionGroup var checkpoints: CheckpointOptions
    @OptionGroup var serving: ServingOptions
    @OptionGroup var archiving: ArchiveOptions
    @OptionGroup var synchronous: SynchronousOptions
    @OptionGroup(title: "Limits") var hardening: HardeningOptions
    @OptionGroup(title: "TLS") var tls: NodeTLSOptions

    @Flag(name: .customLong("restore-mode"), help: "Enter restore mode before opening the repository.")
    var restoreMode = false

    func validate() throws {
        try HardeningOptions.validate(keyFiles: replicationKeyFiles)
    }

    func run() throws {
        let configuration = nodeConfiguration
        if restoreMode { try Repository.enterRestoreMode(configuration.dataDirectory) }
        try NodeRunner.run(configuration) { node in
            "understudy \(node.status.role) ready: http=\(node.httpAddress) repository=\(node.repository.config.repositoryID)"
                + (node.replicationAddress.map { " replication=\($0)" } ?? "")
        }
    }

    private var nodeConfiguration: NodeConfiguration {
        var configuration = NodeConfiguration(dataDirectory: DataDirectory(FilePath(data)))
        configuration.httpAddress = http
        configuration.replicationAddress = replication
        HardeningOptions.apply(keyFiles: replicationKeyFiles, to: &configuration)
        checkpoints.apply(to: &configuration)
        serving.apply(to: &configuration)
        archiving.apply(to: &configuration)
        synchronous.apply(to: &configuration)
        hardening.apply(to: &configuration)
        tls.apply(to: &configuration)
        return configuration
    }
}
