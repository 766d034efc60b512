import ArgumentParser
import Node

/// The limits that bound what peers can make a node hold before they proved anything (see
/// OPERATIONS "Harden a node"). Flags of `start` and `standby`.
struct HardeningOptions: ParsableArguments {
    @Option(name: .customLong("max-pending-connections"), help: ArgumentHelp(
        "At most this many connections on the replication port may wait unauthenticated (default 64); past it the oldest is dropped.",
        valueName: "N"))
    var maxPendingConnections = 64

    func validate() throws {
        if maxPendingConnections < 1 { throw ValidationError("--max-pending-connections must be at least 1") }
    }

    func apply(to configuration: inout NodeConfiguration) {
        configuration.maxPendingReplicationConnections = maxPendingConnections
    }
}
