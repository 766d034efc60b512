import Foundation
import Logging
import Replication
import Transport

/// Tracks a base copy for the operator: `status` for `GET /status`, and at most one log line a second
/// on the terminal with bytes, rate and ETA.
final class BaseCopyProgress: Sendable {
    private struct Meter {
        var status = BaseCopyStatus(state: .copying)
        var transferStarted = ContinuousClock.now
        /// Bytes held when this attempt's transfer started (a resume's); nil until its first progress.
        var attemptStartBytes: UInt64?
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
            meter.attemptStartBytes = nil
        }
    }

    /// From the loop thread, per chunk.
    func received(_ progress: BaseCopyClient.Progress) {
        let line = meter.withLock { meter -> String? in
            let now = ContinuousClock.now
            // The rate counts from this attempt's start, not from the request nor from bytes an earlier attempt received.
            if meter.attemptStartBytes == nil {
                meter.transferStarted = now
                meter.attemptStartBytes = progress.receivedBytes
                if progress.receivedBytes > 0 { meter.status.resumedBytes = progress.receivedBytes }
            }
            meter.status.bytes = progress.receivedBytes
            meter.status.total = progress.totalBytes
            let finished = progress.totalBytes == progress.receivedBytes
            guard finished || meter.lastLine.map({ now - $0 >= Self.lineInterval }) ?? true else { return nil }
            meter.lastLine = now
            return Self.line(progress, since: meter.attemptStartBytes ?? 0, elapsed: now - meter.transferStarted)
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
            meter.status.seconds = (ContinuousClock.now - started).inSeconds
            return meter.status
        }
    }

    /// "base copy: 12.3 MiB of 45.6 MiB (27%), 5.1 MiB/s, ETA 7 s": the rate of the bytes received
    /// in `elapsed` since `since` were held.
    static func line(_ progress: BaseCopyClient.Progress, since: UInt64 = 0, elapsed: Duration) -> String {
        let rate = Double(progress.receivedBytes - min(since, progress.receivedBytes)) / max(elapsed.inSeconds, 0.001)
        var line = "base copy: \(size(progress.receivedBytes))"
        if let total = progress.totalBytes, total > 0 {
            let remaining = rate > 0 ? Double(total - min(progress.receivedBytes, total)) / rate : nil
            line += " of \(size(total)) (\(progress.receivedBytes * 100 / total)%)"
            line += ", \(size(UInt64(rate)))/s, ETA \(remaining.map { "\(Int($0.rounded(.up))) s" } ?? "?")"
        } else {
            line += ", \(size(UInt64(rate)))/s"
        }
        return line
    }

    /// KiB below a MiB, so a small copy does not read "0.0 of 0.0 MiB".
    private static func size(_ bytes: UInt64) -> String {
        bytes < 1_048_576 ? String(format: "%.1f KiB", Double(bytes) / 1024) : String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}
