import Foundation
import Node
import Transport

/// While a full backup runs, one line on a terminal's stderr, rewritten in place: objects written of
/// the total, polled from `GET /status` on a connection of its own. Nothing when stderr is not a
/// terminal, so logs and pipes stay clean.
final class BackupProgressLine: Sendable {
    private let done = Locked(false)
    private let finished = DispatchSemaphore(value: 0)

    static let pollInterval = Duration.milliseconds(500)

    static func start(node: NodeOptions) -> BackupProgressLine? {
        guard isatty(STDERR_FILENO) == 1 else { return nil }
        let line = BackupProgressLine()
        Thread.detachNewThread { line.poll(node) }
        return line
    }

    /// Stops polling and clears the line.
    func stop() {
        done.withLockNotifying { $0 = true }
        finished.wait()
        writeToStandardError(Array("\r\u{1B}[K".utf8))
    }

    private func poll(_ node: NodeOptions) {
        defer { finished.signal() }
        // A failed status request only means no progress to show: the backup's own answer decides.
        try? node.withClient(timeout: .seconds(5)) { client in
            while !done.wait(timeout: Self.pollInterval, until: { $0 }) {
                guard let backup = try client.status().repository.backup else { continue }
                let percent = backup.objectsTotal > 0 ? backup.objectsWritten * 100 / backup.objectsTotal : 0
                writeToStandardError(Array(
                    "\r\u{1B}[Kfull backup: \(backup.objectsWritten) of \(backup.objectsTotal) objects written (\(percent)%)".utf8))
            }
        }
    }
}
