import ArgumentParser
import Foundation
import Logging
import Node
import Transport
import TransportUV

/// `understudy-load`: C keep-alive connections writing to a node, like pgbench clients; prints
/// throughput and latency percentiles.
struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "understudy-load",
        abstract: "Write to a node over keep-alive connections and measure commits/s and commit latency.",
        discussion: """
            Each client is one keep-alive HTTP/1.1 connection with one request in flight: PUT \
            /objects/load-N with a random value of --value-bytes, N uniform in 0..<--keys (an upsert). \
            Without --rate each client sends its next request when the previous answer arrives (closed \
            loop); with --rate, requests are released at that many per second across all clients (open \
            loop, at Poisson-distributed instants as pgbench --rate schedules them) and latency counts \
            from each request's scheduled instant, including any wait for a free connection.
            A progress line is shown on stderr when it is a terminal. Any error (refused connection, \
            non-200 answer, 30 s without an answer) is counted; a run with errors exits with status 1.
            """)

    @Option(help: ArgumentHelp("The node's HTTP API.", valueName: "URL"))
    var node = NodeClient.defaultURL

    @Option(help: "Concurrent keep-alive connections.")
    var clients = 1

    @Option(name: .customLong("value-bytes"), help: "Size of each value written.")
    var valueBytes = 100

    @Option(help: "Run this long (or use --commits).")
    var seconds: Double?

    @Option(help: "Stop after this many commits (or use --seconds).")
    var commits: Int?

    @Option(help: "Number of distinct keys written.")
    var keys = 100_000

    @Option(help: "Open loop: commits per second across all clients.")
    var rate: Double?

    @Flag(help: "Print the summary as one JSON object on stdout.")
    var json = false

    func validate() throws {
        guard (seconds == nil) != (commits == nil) else { throw ValidationError("give exactly one of --seconds and --commits") }
        if let seconds, seconds <= 0 { throw ValidationError("--seconds must be positive") }
        if let commits, commits <= 0 { throw ValidationError("--commits must be positive") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        guard clients > 0, keys > 0, valueBytes >= 0 else { throw ValidationError("--clients and --keys must be positive, --value-bytes not negative") }
    }

    func run() throws {
        let report = try LoadCommand.execute(try plan())
        print(json ? report.json : report.text)
        if report.errors > 0 { throw ExitCode.failure }
    }

    private func plan() throws -> LoadPlan {
        var url = Substring(node)
        if url.hasPrefix("http://") { url = url.dropFirst("http://".count) }
        if url.hasSuffix("/") { url = url.dropLast() }
        guard let address = SocketAddress(parsing: url, defaultPort: NodeConfiguration.defaultHTTPPort) else {
            throw ValidationError("--node: expected http://HOST:PORT with a numeric HOST, got '\(node)'")
        }
        let limit: LoadPlan.Limit = seconds.map { .duration(.milliseconds(Int64($0 * 1000))) } ?? .commits(commits!)
        return LoadPlan(address: address, clients: clients, valueBytes: valueBytes, keys: keys, limit: limit, rate: rate)
    }

    /// Runs the plan on a loop thread of its own and blocks until its report.
    private static func execute(_ plan: LoadPlan) throws -> LoadReport {
        let loop = try UVEventLoop(logger: Logger(label: "understudy.load"))
        defer { loop.shutdown() }
        let outcome = Locked<LoadReport?>(nil)
        loop.execute {
            let progress = ProgressLine()
            let run = LoadRun(
                plan: plan, loop: loop, onProgress: { progress.show($0, since: $1) },
                onFinish: { report in
                    progress.clear()
                    outcome.withLockNotifying { $0 = report }
                })
            run.start()
        }
        // Each request is bounded by its timeout, so the run always ends; the wait just has no fixed length.
        while !outcome.wait(timeout: .seconds(60), until: { $0 != nil }) {}
        return outcome.withLock { $0! }
    }
}
