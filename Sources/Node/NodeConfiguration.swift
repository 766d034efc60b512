import Repository
import SystemPackage
import Tranlog
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
    /// A second key accepted from standbys during a key rotation (`--replication-key-file` given
    /// twice): a standby's proof under either verifies and is answered under the same key; this
    /// node's own hellos (as a standby) are signed with `replicationKeyFile` only.
    public var rotationReplicationKeyFile: FilePath?
    /// Key and token files may be readable by their group (0640), for a systemd unit's group;
    /// never by others (`--allow-group-readable-secrets`). Default false: owner only (0600).
    public var allowGroupReadableSecrets = false
    /// TLS 1.3 on the HTTP and replication ports, and on this node's connections to its primary
    /// (`--tls-cert`, `--tls-key`, `--tls-ca`); with a CA, peers must present a certificate it signed.
    /// Nil: plain TCP. Certificates reload on `UnderstudyNode.reloadTLS()` (SIGHUP).
    public var tls: TLSConfiguration?
    /// Connections on the replication port that have not authenticated yet, at most (`--max-pending-connections`);
    /// past it the oldest is dropped. Default 64.
    public var maxPendingReplicationConnections = 64
    /// Records batches are shipped gzip-compressed when that makes them smaller (`--compress`): for
    /// standbys across a slow link; each standby's ratio is in status and metrics.
    public var compressReplication = false
    /// How long the HTTP loop polls, rather than sleeps, after it took in a request or sent an
    /// answer (`TransportConfiguration.pollBudget`), and the tranlog's flush thread after each sync
    /// (`RepositoryConfiguration.flushPoll`); `--busy-poll-us`. Default 300 µs, more than nine in
    /// ten commits' `fdatasync` on the disks measured: a lone client's commit finds the loop awake
    /// when its answer is ready and again when its next request comes, and the flush thread awake
    /// when it is queued. Zero sleeps at once: less CPU while clients are active, three wake-ups
    /// more on each lone commit's path.
    public var busyPoll: Duration = .microseconds(300)
    /// Set on a standby: the primary it follows. The node then runs in restore mode, mirrors the
    /// primary's tranlog and applies it continuously until promoted. Needs `replicationKeyFile`.
    public var standbyOf: SocketAddress?
    /// Where completed tranlogs are archived: a directory (`--archive-dir`, compressed and
    /// atomically) or an operator's command (`--archive-command`); nil: nowhere. Partial logging
    /// then removes no tranlog before it is archived.
    public var archiveDestination: ArchiveLocation? {
        didSet { repository.archivesTranlogs = archiveDestination != nil }
    }
    /// How often the archiver looks for completed tranlogs.
    public var archiveInterval: Duration = .seconds(1)
    /// Set on a warm standby: the archive whose completed tranlogs it applies, in restore mode, until
    /// promoted (`standby --archive` or `--restore-command`). Excludes `standbyOf`.
    public var standbyArchive: ArchiveLocation?
    /// How often a warm standby polls its archive.
    public var archivePollInterval: Duration = .seconds(2)
    /// On a standby: listen on `replicationAddress` from the start, refusing standbys (they are not
    /// cascaded) until promoted, then serving them without a restart.
    public var standbyServesWhenPromoted = false
    /// On a standby: the source id it takes (`understudy.json`); nil derives one from a copied
    /// primary's id (see `Repository.ensureOwnSourceID`).
    public var standbySourceID: SourceID?
    /// A standby starts offline (receiving and applying nothing) until `understudy standby online`:
    /// to check a copy just put in place before it streams. Default false.
    public var standbyStartsOffline = false
    /// A standby following a primary applies each record only this long after its commit time (the
    /// primary's clock), to keep a window for recovering from a bad change; receiving and flushing
    /// are not delayed. Nil: no delay.
    public var standbyApplyDelay: Duration?
    /// Everything the node reads and writes goes through it: the data directory, the archive, a base
    /// copy's staging. Tests inject one that simulates crashes.
    public var fileSystem: any TranlogFileSystem = PosixFileSystem()
    /// On a primary serving standbys: how many of them must acknowledge a commit before its client
    /// hears of it (default 0: asynchronous), at which level, and when to fall back.
    public var synchronous = SynchronousSettings()
    /// Checkpoint interval and size, run count, tranlog rotation.
    public var repository = RepositoryConfiguration()
    /// Polled during long start-up work (a standby's base copy): true once the node should give up
    /// and exit (the runner sets it from SIGTERM/SIGINT).
    public var stopRequested: @Sendable () -> Bool = { false }
    /// Set on a node managed by a cluster supervisor (`understudy join`): its standing in the cluster,
    /// shown in `GET /status`. Its `commitsHeld` refuses commits, and their acknowledgements, while the
    /// node cannot prove it holds the cluster's leader lease. Asked at every commit, on the loop and
    /// completion threads: it must not block.
    public var cluster: (@Sendable () -> ClusterMembershipStatus)?

    public static let defaultHTTPPort = 7480

    public init(dataDirectory: DataDirectory) {
        self.dataDirectory = dataDirectory
        http = HTTPServerConfiguration()
        http.port = Self.defaultHTTPPort
    }

    /// Every replication key file the node reads.
    var replicationKeyFiles: [FilePath] { [replicationKeyFile, rotationReplicationKeyFile].compactMap { $0 } }

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
        if busyPoll < .zero { return "--busy-poll-us must not be negative" }
        if rotationReplicationKeyFile != nil && replicationKeyFile == nil { return "a rotation's second key file needs a first" }
        if standbyOf != nil && replicationKeyFile == nil { return "a standby needs the replication key file of its primary" }
        if standbyOf != nil && standbyArchive != nil { return "a standby follows either a primary or an archive, not both" }
        if let delay = standbyApplyDelay {
            if delay < .zero { return "--apply-delay must not be negative" }
            if standbyOf == nil { return "--apply-delay is for a standby following a primary (--primary)" }
        }
        if let problem = synchronousProblem { return problem }
        if let tls, tls.certificateFile == nil || tls.keyFile == nil { return "TLS needs both --tls-cert and --tls-key" }
        if maxPendingReplicationConnections < 1 { return "--max-pending-connections must be at least 1" }
        if archiveInterval <= .zero || archivePollInterval <= .zero { return "archive intervals must be positive" }
        return nil
    }

    private var synchronousProblem: String? {
        guard synchronous.standbys > 0 else { return nil }
        if standbyArchive != nil { return "synchronous replication is for a primary: start it with `understudy start`" }
        if standbyOf != nil && !standbyServesWhenPromoted {
            return "a standby's synchronous replication applies once it is promoted and serves standbys of its own: give --replication too"
        }
        if replicationKeyFile == nil { return "synchronous replication needs standbys: give --replication-key-file" }
        if let after = synchronous.fallbackAfter, after <= .zero { return "the synchronous fallback must come after a positive time" }
        return nil
    }
}
