import ArgumentParser
import Foundation
import Logging
import Node
import Transport

/// Runs a node in the foreground for `start` and `standby`: one ready line on stdout once serving,
/// then a clean stop (final checkpoint, shutdown record) on SIGTERM or SIGINT.
enum NodeRunner {
    /// A node refused to start for a reason a restart cannot fix (configuration, data directory, damaged
    /// logs): EX_CONFIG, so a service manager stops retrying (`RestartPreventExitStatus=78` in
    /// deploy/systemd). A port that cannot be opened stays 1: it may be free on the next try.
    static let refusedExitStatus: Int32 = 78

    /// `readyLine` gets the running node: ports asked as 0 are known only then.
    static func run(_ configuration: NodeConfiguration, readyLine: (UnderstudyNode) -> String) throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let logger = Logger(label: "understudy")
        let signals = TerminationSignals()
        // Until the node is up, a SIGHUP has no certificate to reload; its default action would end the process.
        signal(SIGHUP, SIG_IGN)
        var configuration = configuration
        configuration.stopRequested = signals.arrived
        let node: UnderstudyNode
        do { node = try UnderstudyNode(configuration: configuration, logger: logger) } catch {
            // Stopped on a signal during long start-up work (a base copy): what the operator asked for.
            if signals.arrived() {
                logger.notice("stopped on a signal before the node was ready", metadata: ["why": "\(error)"])
                throw ExitCode.success
            }
            printToStandardError("Error: \(error)")
            if case .http = error { throw ExitCode.failure }
            throw ExitCode(refusedExitStatus)
        }
        let hangup = reloadingCertificates(of: node, logger: logger)
        defer { hangup.cancel() }
        // Unbuffered, so whoever waits for the line sees it at once even when stdout is a pipe.
        writeToStandardOutput(Array((readyLine(node) + "\n").utf8))
        let signal = signals.wait()
        logger.info("stopping on a signal", metadata: ["signal": "\(signal)"])
        try node.stop()
    }

    /// SIGHUP reloads the TLS certificates, on a dispatch thread (files are never read on the loop's).
    /// On failure the node keeps the certificates it had.
    private static func reloadingCertificates(of node: UnderstudyNode, logger: Logger) -> any DispatchSourceSignal {
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler {
            logger.info("SIGHUP: reloading TLS certificates")
            do { try node.reloadTLS() } catch {
                logger.error("TLS certificates not reloaded, the previous ones stay in use: \(error)")
            }
        }
        source.resume()
        return source
    }

    /// The `HOST:PORT` of `--http`, `--replication` and `--primary`.
    static func address(_ text: String) throws -> SocketAddress {
        guard let address = SocketAddress(parsing: Substring(text)) else {
            throw ValidationError("'\(text)' is not HOST:PORT with a numeric host, e.g. 127.0.0.1:7480 or [::1]:7480")
        }
        return address
    }
}
