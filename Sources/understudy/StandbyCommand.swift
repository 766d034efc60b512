import ArgumentParser
import Node
import Repository
import SystemPackage
import Transport

/// `understudy standby [run] --data DIR --primary HOST:PORT --replication-key-file KEYFILE`: runs a node
/// that follows a primary: in restore mode, mirroring and applying its tranlog continuously, serving
/// reads, until `understudy promote`.
struct StandbyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a standby of a primary, in the foreground.",
        discussion: """
            DIR must hold a copy of the primary's repository: make it with `understudy backup snapshot` \
            (or a `cp -a` of the stopped primary's data directory); an empty DIR is refused. The standby \
            runs in restore mode: reads are served, writes refused until `understudy promote`. \
            `understudy status` shows its lag per stage.

            Logs go to stderr. Once serving, one line goes to stdout:
              understudy standby ready: http=HOST:PORT primary=HOST:PORT
            SIGTERM or SIGINT stop the standby cleanly; started again, it resumes where it stopped \
            (offline if it was offline). `run` is the default: `understudy standby --data DIR …` runs it.
            """)

    @Option(help: ArgumentHelp("The data directory, holding a copy of the primary's repository.", valueName: "DIR"))
    var data: String

    @Option(help: ArgumentHelp("The primary's replication address (its `start --replication`).", valueName: "HOST:PORT"),
            transform: NodeRunner.address)
    var primary: SocketAddress

    @Option(name: .customLong("replication-key-file"), help: ArgumentHelp("The primary's replication secret.", valueName: "KEYFILE"))
    var replicationKeyFile: String

    @Option(help: ArgumentHelp("Where the HTTP API listens (port 0: any free port).", valueName: "HOST:PORT"),
            transform: NodeRunner.address)
    var http = SocketAddress(host: "127.0.0.1", port: NodeConfiguration.defaultHTTPPort)

    @Flag(help: "Start offline: receive and apply nothing until `understudy standby online`.")
    var offline = false

    @OptionGroup var retention: RetentionOptions

    func run() throws {
        var configuration = NodeConfiguration(dataDirectory: DataDirectory(FilePath(data)))
        retention.apply(to: &configuration.repository)
        configuration.httpAddress = http
        configuration.replicationKeyFile = FilePath(replicationKeyFile)
        configuration.standbyOf = primary
        configuration.standbyStartsOffline = offline
        try NodeRunner.run(configuration) { node in "understudy standby ready: http=\(node.httpAddress) primary=\(primary)" }
    }
}
