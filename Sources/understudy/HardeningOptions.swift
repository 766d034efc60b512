import ArgumentParser
import Node
import SystemPackage

/// The limits that bound what peers can make a node hold before they proved anything (see
/// OPERATIONS "Harden a node"). Flags of `start` and `standby`.
struct HardeningOptions: ParsableArguments {
    @Option(name: .customLong("max-pending-connections"), help: ArgumentHelp(
        "At most this many connections on the replication port may wait unauthenticated (default 64); past it the oldest is dropped.",
        valueName: "N"))
    var maxPendingConnections = 64

    @Flag(name: .customLong("allow-group-readable-secrets"), help: ArgumentHelp(
        "Accept key and token files readable by their group (mode 0640, for a service's group); never readable by others. "
            + "Default: owner only (0600)."))
    var allowGroupReadableSecrets = false

    @Option(name: .customLong("max-connections"), help: ArgumentHelp(
        "At most this many HTTP connections (default 1024); one more is answered 503 with Retry-After and closed.", valueName: "N"))
    var maxConnections = 1024

    @Option(name: .customLong("max-buffered-request-bytes"), help: ArgumentHelp(
        "Request body bytes buffered across all HTTP connections at most (default 268435456, 256 MiB; at least 33554432, one "
            + "largest body); a body that would pass it is answered 503 with Retry-After.", valueName: "BYTES"))
    var maxBufferedRequestBytes = 256 << 20

    func validate() throws {
        if maxPendingConnections < 1 { throw ValidationError("--max-pending-connections must be at least 1") }
        if maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
    }

    static let rotationHelp = "Give it twice during a key rotation: standbys signing with either key are accepted (OPERATIONS: Rotate the replication key)."

    /// `--replication-key-file` once, or twice for a rotation.
    static func validate(keyFiles: [String]) throws {
        if keyFiles.count > 2 { throw ValidationError("--replication-key-file is given at most twice (the current key, and the other during a rotation)") }
    }

    static func apply(keyFiles: [String], to configuration: inout NodeConfiguration) {
        configuration.replicationKeyFile = keyFiles.first.map { FilePath($0) }
        configuration.rotationReplicationKeyFile = keyFiles.dropFirst().first.map { FilePath($0) }
    }

    func apply(to configuration: inout NodeConfiguration) {
        configuration.maxPendingReplicationConnections = maxPendingConnections
        configuration.allowGroupReadableSecrets = allowGroupReadableSecrets
        configuration.http.maxConnections = maxConnections
        configuration.http.maxBufferedRequestBytes = maxBufferedRequestBytes
    }
}
