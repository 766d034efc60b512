import ArgumentParser
import Node
import Repository
import SystemPackage
import Tranlog
import Transport

/// `understudy standby [run] --data DIR --primary HOST:PORT --replication-key-file KEYFILE`: runs a node
/// that follows a primary: in restore mode, mirroring and applying its tranlog continuously, serving
/// reads, until `understudy promote`.
struct StandbyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a standby of a primary, in the foreground.",
        discussion: """
            A missing or empty DIR is first filled with a base copy of the primary, sent over the \
            replication connection (a full backup, verified, restored, then renamed into place; an \
            interrupted copy starts over). Otherwise DIR must hold a copy of the primary's repository \
            (`understudy backup snapshot`, or a `cp -a` of the stopped primary's data directory). The standby \
            runs in restore mode: reads are served, writes refused until `understudy promote`. \
            `understudy status` shows its lag per stage.

            Logs go to stderr. Once serving, one line goes to stdout:
              understudy standby ready: http=HOST:PORT primary=HOST:PORT [replication=HOST:PORT]
            With --replication the standby listens there for standbys of its own: it refuses them \
            while it is a standby (standbys are not cascaded) and serves them once promoted, \
            synchronously with --synchronous-standbys (as `understudy start`).
            SIGTERM or SIGINT stop the standby cleanly; started again, it resumes where it stopped \
            (offline if it was offline). `run` is the default: `understudy standby --data DIR …` runs it.

            Delayed standby: with --apply-delay SECONDS it receives, flushes and acknowledges at once, but \
            applies each record only SECONDS after its commit time (the primary's clock, from its \
            heartbeats), keeping a window in which a bad change on the primary (a wrong delete) has not \
            reached it yet: `understudy standby pause` stops applying, `pause --until-time T` applies up to \
            just before the change, and `understudy promote` makes it a primary there. `understudy status` \
            shows the delay, the apply horizon and the records held. A restart keeps holding them (they \
            are in the mirror); a promote without a pause applies everything flushed.

            Warm standby: with --archive DIR instead of --primary, it applies completed tranlogs (plain or \
            .gz) from an archive (a primary's --archive-dir) as they appear, every --poll-seconds; \
            `understudy status` says which file it waits for, or which file it cannot apply and why. The \
            ready line then ends with archive=DIR. --restore-command CMD instead of --archive fetches each \
            file through a command (%f the name wanted, %p where to write it; exit 0: fetched), e.g. \
            'aws s3 cp --only-show-errors s3://bucket/REPOSITORY-ID/%f %p'; the ready line ends with archive=restore-command.
            """)

    @Option(help: ArgumentHelp("The data directory: a copy of the primary's repository, or missing/empty for a base copy.", valueName: "DIR"))
    var data: String

    @Option(help: ArgumentHelp("The primary's replication address (its `start --replication`).", valueName: "HOST:PORT"),
            transform: NodeRunner.address)
    var primary: SocketAddress?

    @Option(name: .customLong("replication-key-file"), help: ArgumentHelp(
        "The primary's replication secret (mode 0600); this standby signs with the first. " + HardeningOptions.rotationHelp,
        valueName: "KEYFILE"))
    var replicationKeyFiles: [String] = []

    @OptionGroup var warm: WarmStandbyOptions

    @OptionGroup var archiving: ArchiveOptions

    @Option(help: ArgumentHelp(
        "This node's own replication address, where its standbys connect once it is promoted (port 0: any free port).",
        valueName: "HOST:PORT"), transform: NodeRunner.address)
    var replication: SocketAddress?

    @OptionGroup(title: "Once promoted (with --replication)") var synchronous: SynchronousOptions

    @Option(name: .customLong("source-id"), help: ArgumentHelp(
        "This standby's own source id, kept in understudy.json (default: a copied primary's id gets \"-standby-\" and 6 hex digits).",
        valueName: "NAME"), transform: ArgumentParsing.sourceID)
    var sourceID: SourceID?

    @Option(help: ArgumentHelp("Where the HTTP API listens (port 0: any free port).", valueName: "HOST:PORT"),
            transform: NodeRunner.address)
    var http = SocketAddress(host: "127.0.0.1", port: NodeConfiguration.defaultHTTPPort)

    @Flag(help: "Start offline: receive and apply nothing until `understudy standby online`.")
    var offline = false

    @Option(name: .customLong("apply-delay"), help: ArgumentHelp(
        "Apply each record only this many seconds after its commit time on the primary (receiving and flushing are not delayed).",
        valueName: "SECONDS"), transform: ArgumentParsing.secondsOrZero)
    var applyDelay: Double?

    @OptionGroup var checkpoints: CheckpointOptions
    @OptionGroup var serving: ServingOptions
    @OptionGroup(title: "Limits") var hardening: HardeningOptions
    @OptionGroup(title: "TLS") var tls: NodeTLSOptions

    func run() throws {
        // Here rather than in `validate()`, which ArgumentParser runs before it reports an unknown
        // option: `--primay` must be named as the typo it is, not as a missing `--primary`.
        try warm.validate(primary: primary != nil, replicationKeyFile: !replicationKeyFiles.isEmpty)
        try HardeningOptions.validate(keyFiles: replicationKeyFiles)
        var configuration = NodeConfiguration(dataDirectory: DataDirectory(FilePath(data)))
        checkpoints.apply(to: &configuration)
        serving.apply(to: &configuration)
        configuration.httpAddress = http
        HardeningOptions.apply(keyFiles: replicationKeyFiles, to: &configuration)
        configuration.standbyOf = primary
        warm.apply(to: &configuration)
        archiving.apply(to: &configuration)
        configuration.standbySourceID = sourceID
        configuration.standbyStartsOffline = offline
        configuration.standbyApplyDelay = applyDelay.map { ArgumentParsing.duration(seconds: $0) }
        if let replication {
            configuration.replicationAddress = replication
            configuration.standbyServesWhenPromoted = true
        }
        synchronous.apply(to: &configuration)
        hardening.apply(to: &configuration)
        tls.apply(to: &configuration)
        let source = primary.map { "primary=\($0)" } ?? "archive=\(warm.archive ?? "restore-command")"
        try NodeRunner.run(configuration) { node in
            "understudy standby ready: http=\(node.httpAddress) \(source)" + (node.replicationAddress.map { " replication=\($0)" } ?? "")
        }
    }
}
