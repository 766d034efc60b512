import Foundation
import Node
import TransportUV

#if canImport(Glibc)
import Glibc
#endif

/// `understudy status --watch`: polls `GET /status` every interval and redraws the view in place on a
/// terminal (one line, or one JSON line, per refresh otherwise). A node that stops answering is shown
/// as unreachable and polled on; Ctrl-C ends the watch with the cursor restored. The exit status is
/// 1 when the node did not answer the last poll, as for `status`.
struct StatusWatch {
    let url: String
    let tls: TLSConfiguration?
    let interval: Duration
    let count: Int?
    let json: Bool

    private static let hideCursor = "\u{1B}[?25l"
    private static let showCursor = "\u{1B}[?25h"
    /// Moves the cursor to the start of the line N lines up.
    private static func linesUp(_ count: Int) -> String { count > 0 ? "\u{1B}[\(count)F" : "\r" }
    private static let clearToEndOfLine = "\u{1B}[K"
    private static let clearBelow = "\u{1B}[J"

    func run() throws {
        let signals = TerminationSignals([SIGINT, SIGTERM])
        let terminal = !json && isatty(STDOUT_FILENO) == 1
        // The view is redrawn in place below what the terminal already shows (a script's URLs and
        // paths stay readable above it), not over a cleared screen.
        if terminal { emit(Self.hideCursor) }
        var drawnLines = 0
        defer { if terminal { emit(Self.showCursor + "\n") } }
        var last: NodeStatus?
        var unreachableSince: Date?
        var refreshes = 0
        repeat {
            let now = Date()
            var observation = StatusObservation(node: url, time: now, status: last)
            do {
                observation.status = try fetch()
                unreachableSince = nil
            } catch {
                unreachableSince = unreachableSince ?? now
                observation.unreachableSince = unreachableSince
                observation.error = "\(error)"
            }
            last = observation.status
            try show(observation, terminal: terminal, drawnLines: &drawnLines)
            refreshes += 1
            if let count, refreshes >= count { break }
        } while signals.wait(timeout: interval) == nil
        // Like `status`: a node that did not answer the last poll is a failure for a script.
        if let unreachableSince {
            throw CommandError("\(url) has not answered since \(unreachableSince.formatted(.iso8601))")
        }
    }

    /// A fresh client each time: a restarted node is found again without any reconnect logic.
    private func fetch() throws -> NodeStatus {
        let client = try NodeClient(url: url, timeout: max(interval, .seconds(2)), tls: tls)
        defer { client.close() }
        return try client.status()
    }

    private func show(_ observation: StatusObservation, terminal: Bool, drawnLines: inout Int) throws {
        if json {
            emit(try jsonLine(WatchLine(observation)) + "\n")
        } else if terminal {
            // Lines are cut to the terminal's width: a wrapped line would take rows the redraw does not count.
            let width = Self.terminalColumns()
            let lines = StatusWatchView.screen(observation).map { String($0.prefix(width)) + Self.clearToEndOfLine }
            emit(Self.linesUp(drawnLines) + lines.joined(separator: "\n") + "\n" + Self.clearBelow)
            drawnLines = lines.count
        } else {
            emit(StatusWatchView.line(observation) + "\n")
        }
    }

    /// The terminal's width in columns (80 when it does not say).
    private static func terminalColumns() -> Int {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    private func emit(_ text: String) {
        writeToStandardOutput(Array(text.utf8))
    }
}

/// One refresh of `status --watch --json`: the status, or since when the node has not answered.
private struct WatchLine: Encodable {
    var time: String
    var status: NodeStatus?
    var unreachableSince: String?
    var error: String?

    init(_ observation: StatusObservation) {
        let format = Date.ISO8601FormatStyle()
        time = observation.time.formatted(format)
        unreachableSince = observation.unreachableSince?.formatted(format)
        status = observation.unreachableSince == nil ? observation.status : nil
        error = observation.error
    }
}
