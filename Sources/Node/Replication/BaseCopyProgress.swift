import Foundation
import Logging
import Replication
import Transport

/// Tracks a base copy for the operator: `status` for `GET /status`, and at most one log line a second
/// on the terminal with bytes, rate and ETA.
final class BaseCopyProgress: Sendable {
    private struct Meter {
        var status = BaseCopyStatus(state: .copying)
        var attemptStarted = ContinuousClock.now
        var lastLine: ContinuousClock.Instant?
    }

    static let lineInterval = Duration.seconds(1)
    private let logger: Logger
    private let meter = Locked(Meter())
    private let started = ContinuousClock.now

    init(logger: Logger) {
        self.logger = logger
    }

    var status: BaseCopyStatus { meter.withLock { $0.status } }

    func attemptStarted() {
        meter.withLock { meter in
            meter.status.attempts += 1
            meter.status.state = .copying
            meter.status.bytes = 0
            meter.status.total = nil
            meter.attemptStarted = .now
        }
    }

    /// From the loop thread, per chunk.
    func received(_ progress: BaseCopyClient.Progress) {
        let line = meter.withLock { meter -> String? in
            meter.status.bytes = progress.receivedBytes
            meter.status.total = progress.totalBytes
            let now = ContinuousClock.now
            let finished = progress.totalBytes == progress.receivedBytes
            guard finished || meter.lastLine.map({ now - $0 >= Self.lineInterval }) ?? true else { return nil }
            meter.lastLine = now
            return Self.line(progress, elapsed: now - meter.attemptStarted)
        }
        if let line { logger.notice("\(line)") }
    }

    func entered(_ state: BaseCopyStatus.State, lastError: String? = nil) {
        meter.withLock { meter in
            meter.status.state = state
            if let lastError { meter.status.lastError = lastError }
        }
    }

    func finished(restoredSeqno: UInt64) -> BaseCopyStatus {
        meter.withLock { meter in
            meter.status.state = .done
            meter.status.restoredSeqno = restoredSeqno
            meter.status.seconds = Self.seconds(ContinuousClock.now - started)
            return meter.status
        }
    }

    /// "base copy: 12.3 of 45.6 MiB (27%), 5.1 MiB/s, ETA 7 s"
    static func line(_ progress: BaseCopyClient.Progress, elapsed: Duration) -> String {
        let mebibytes = { (bytes: UInt64) in String(format: "%.1f", Double(bytes) / 1_048_576) }
        let seconds = max(Self.seconds(elapsed), 0.001)
        let rate = Double(progress.receivedBytes) / seconds
        var line = "base copy: \(mebibytes(progress.receivedBytes))"
        if let total = progress.totalBytes, total > 0 {
            let remaining = rate > 0 ? Double(total - min(progress.receivedBytes, total)) / rate : nil
            line += " of \(mebibytes(total)) MiB (\(progress.receivedBytes * 100 / total)%)"
            line += ", \(mebibytes(UInt64(rate))) MiB/s, ETA \(remaining.map { "\(Int($0.rounded(.up))) s" } ?? "?")"
        } else {
            line += " MiB, \(mebibytes(UInt64(rate))) MiB/s"
        }
        return line
    }

    private static func seconds(_ duration: Duration) -> Double {
        let components = duration.components
        return Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
