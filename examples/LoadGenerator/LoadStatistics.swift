/// What a run has measured so far. Loop-confined, like the run that feeds it.
struct LoadStatistics {
    private(set) var latency = LatencyHistogram()
    private(set) var errors = 0
    private(set) var firstError: String?

    var commits: Int { latency.count }

    /// A 200 answer: a durable commit.
    mutating func recordCommit(latency: Duration) {
        self.latency.record(latency)
    }

    mutating func recordError(_ message: String) {
        errors += 1
        if firstError == nil { firstError = message }
    }
}
