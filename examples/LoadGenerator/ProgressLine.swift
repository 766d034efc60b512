import Foundation

/// One line on a terminal, rewritten in place: commits so far, the rate over the last interval, p99 so
/// far. Silent when stderr is not a terminal, so logs and pipes stay clean.
final class ProgressLine {
    private let enabled = isatty(STDERR_FILENO) != 0
    private var lastCommits = 0
    private var lastTime = ContinuousClock.now

    func show(_ statistics: LoadStatistics, since start: ContinuousClock.Instant) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let rate = Double(statistics.commits - lastCommits) / max((now - lastTime).seconds, 1e-9)
        (lastCommits, lastTime) = (statistics.commits, now)
        let line = String(
            format: "%6.1f s  commits %d  %.0f/s  p99 %.3f ms  errors %d", (now - start).seconds, statistics.commits, rate,
            statistics.latency.percentile(0.99).milliseconds, statistics.errors)
        // Carriage return and erase-line: the next line overwrites this one.
        write("\r\u{1B}[K" + line)
    }

    func clear() {
        if enabled { write("\r\u{1B}[K") }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
