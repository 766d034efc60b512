import Repository
import SystemPackage
import Transport
import TransportUV

/// How a node runs. Every field has a default suited to a single machine; `understudy start` overrides
/// them from its flags.
public struct NodeConfiguration: Sendable {
    /// The data directory, created beforehand by `understudy init` (`DataDirectory.initialize`).
    public var dataDirectory: DataDirectory
    /// The HTTP API: where it listens (default 127.0.0.1:7480, loopback only: exposing the API is an
    /// explicit choice) and its request limits (see `HTTPServerConfiguration`).
    public var http: HTTPServerConfiguration
    /// Where standbys connect (default 127.0.0.1:7481; port 0: any free port). A primary listens
    /// there only with a `replicationKeyFile`.
    public var replicationAddress = SocketAddress(host: "127.0.0.1", port: 7481)
    /// The shared secret of primary and standbys (at least 16 bytes; a trailing newline is ignored).
    /// Nil: replication is off.
    public var replicationKeyFile: FilePath?
    /// Set on a standby: the primary it follows. The node then runs in restore mode, mirrors the
    /// primary's tranlog and applies it continuously until promoted. Needs `replicationKeyFile`.
    public var standbyOf: SocketAddress?
    /// A standby starts offline (receiving and applying nothing) until `understudy standby online`:
    /// to check a copy just put in place before it streams. Default false.
    public var standbyStartsOffline = false
    /// Checkpoint interval and size, run count, tranlog rotation.
    public var repository = RepositoryConfiguration()

    public static let defaultHTTPPort = 7480

    public init(dataDirectory: DataDirectory) {
        self.dataDirectory = dataDirectory
        http = HTTPServerConfiguration()
        http.port = Self.defaultHTTPPort
    }

    public var httpAddress: SocketAddress {
        get { SocketAddress(host: http.host, port: http.port) }
        set {
            http.host = newValue.host
            http.port = newValue.port
        }
    }

    /// Nil when usable, else the problem, naming the setting.
    public func validate() -> String? {
        do { try http.validate() } catch { return "HTTP: \(error.message)" }
        if !(0...65535).contains(replicationAddress.port) { return "replication port must be in 0...65535" }
        if let problem = repository.validate() { return "repository: \(problem)" }
        if standbyOf != nil && replicationKeyFile == nil { return "a standby needs the replication key file of its primary" }
        return nil
    }
}
