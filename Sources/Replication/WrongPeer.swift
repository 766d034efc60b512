import Transport

/// A replication connection (streaming or base copy) whose peer does not speak the replication
/// protocol: `--primary` names another service, typically the primary's HTTP port.
public struct WrongPeer: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Answer: Hashable, Sendable {
        case http
        case unknownBytes
        /// Silent past the challenge timeout, and after the probe too.
        case nothing(within: Duration)
    }

    public var peer: String
    public var answer: Answer

    public var description: String {
        let how =
            switch answer {
            case .http: "it answered like HTTP"
            case .unknownBytes: "it answered with unknown bytes"
            case .nothing(let within): "it sent nothing within \(within)"
            }
        return "\(peer) is not an Understudy replication port (\(how)); give --primary the primary's replication address (its --replication)"
    }
}

/// Tells an Understudy primary from another service on a fresh connection, before the challenge: a
/// primary sends its challenge as soon as it accepts; an HTTP server waits for a request, so a peer
/// silent past `timeout` is sent `probe`, which any HTTP server answers. Loop-confined, one per
/// connection, from the connect until the challenge (then `cancel()`).
final class PeerCheck {
    /// The first bytes of every challenge message: its length and type.
    static let challengeHeader = Array(MessageCodec.encode(.challenge([UInt8](repeating: 0, count: ReplicationProtocol.challengeBytes))).prefix(5))
    static let httpPrefix = Array("HTTP/".utf8)
    /// Sent only to a peer that is already not a primary (silent past the timeout): a real primary
    /// that was merely slow closes the connection on it, and the next attempt starts clean.
    static let probe = Array("GET / HTTP/1.0\r\n\r\n".utf8)

    let peer: String
    let timeout: Duration
    private let loop: any EventLoop
    private let connection: any Connection
    private let onWrongPeer: (WrongPeer) -> Void
    private var timer: (any LoopTimer)?
    private var probed = false
    private var first: [UInt8] = []

    /// Starts the timeout; `onWrongPeer` hears of a peer silent after the probe too.
    init(peer: String, timeout: Duration, loop: any EventLoop, connection: any Connection, onWrongPeer: @escaping (WrongPeer) -> Void) {
        self.peer = peer
        self.timeout = timeout
        self.loop = loop
        self.connection = connection
        self.onWrongPeer = onWrongPeer
        arm()
    }

    /// Bytes that arrived while the challenge is awaited: a `WrongPeer` as soon as they cannot begin
    /// a challenge; nil while they still may.
    func received(_ bytes: [UInt8]) -> WrongPeer? {
        first += bytes.prefix(Self.challengeHeader.count - first.count)
        if Self.challengeHeader.starts(with: first) { return nil }
        if first.count < Self.httpPrefix.count, Self.httpPrefix.starts(with: first) { return nil }
        return WrongPeer(peer: peer, answer: first.starts(with: Self.httpPrefix) ? .http : .unknownBytes)
    }

    /// The challenge came, or the connection is gone.
    func cancel() {
        timer?.cancel()
    }

    private func arm() {
        timer = loop.scheduleTimer(after: timeout) { [weak self] in self?.timedOut() }
    }

    private func timedOut() {
        guard probed else {
            probed = true
            _ = connection.write(Self.probe)
            return arm()
        }
        onWrongPeer(WrongPeer(peer: peer, answer: .nothing(within: timeout * 2)))
    }
}
