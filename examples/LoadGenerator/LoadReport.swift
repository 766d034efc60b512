import Foundation

/// The outcome of a run, as a summary for people and as JSON for scripts.
struct LoadReport: Encodable {
    struct Latency: Encodable {
        var p50: Double
        var p99: Double
        var p999: Double
        var max: Double
    }

    var clients: Int
    var valueBytes: Int
    var keys: Int
    var rate: Double?
    var seconds: Double
    var commits: Int
    var commitsPerSecond: Double
    var errors: Int
    var firstError: String?
    /// Open loop: requests that were due but never found a free connection before the end.
    var notStarted: Int
    var latencyMilliseconds: Latency

    init(plan: LoadPlan, statistics: LoadStatistics, elapsed: Duration, notStarted: Int) {
        clients = plan.clients
        valueBytes = plan.valueBytes
        keys = plan.keys
        rate = plan.rate
        seconds = elapsed.seconds
        commits = statistics.commits
        commitsPerSecond = Double(statistics.commits) / max(elapsed.seconds, 1e-9)
        errors = statistics.errors
        firstError = statistics.firstError
        self.notStarted = notStarted
        let histogram = statistics.latency
        latencyMilliseconds = Latency(
            p50: histogram.percentile(0.50).milliseconds, p99: histogram.percentile(0.99).milliseconds,
            p999: histogram.percentile(0.999).milliseconds, max: histogram.maximum.milliseconds)
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Plain numbers and strings cannot fail to encode.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    var text: String {
        let mode = rate.map { "open loop at \(format($0, 0)) commits/s" } ?? "closed loop"
        var lines = [
            "understudy-load: \(clients) clients, \(valueBytes)-byte values over \(keys) keys, \(mode), \(format(seconds, 2)) s",
            "commits   \(commits) (\(format(commitsPerSecond, 0))/s)",
            "latency   p50 \(ms(latencyMilliseconds.p50))  p99 \(ms(latencyMilliseconds.p99))  "
                + "p999 \(ms(latencyMilliseconds.p999))  max \(ms(latencyMilliseconds.max))",
            "errors    \(errors)" + (firstError.map { " (first: \($0))" } ?? ""),
        ]
        if notStarted > 0 { lines.append("behind    \(notStarted) due commits never started: the node could not keep up with --rate") }
        return lines.joined(separator: "\n")
    }

    private func ms(_ milliseconds: Double) -> String { format(milliseconds, 3) + " ms" }

    private func format(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }
}
