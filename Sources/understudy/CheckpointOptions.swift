import ArgumentParser
import Node

/// When a node checkpoints: flags of `start`, `standby` and `join`. A standby checkpoints by the same
/// rule as a primary (PostgreSQL's restartpoints follow the standby's own checkpoint_timeout and
/// max_wal_size likewise), counting the log it applied instead of the log it wrote.
struct CheckpointOptions: ParsableArguments {
    @Option(name: .customLong("checkpoint-seconds"), help: "Checkpoint at least this often while there are changes (default 60).",
            transform: ArgumentParsing.wholeSeconds(from: 1))
    var checkpointSeconds: Int?

    @Option(name: .customLong("checkpoint-mbytes"), help: ArgumentHelp(
        "Checkpoint once this many MiB of tranlog were written (on a standby: applied) since the last one (default 64).",
        valueName: "N"), transform: ArgumentParsing.integer(in: 1...(1 << 20), "MiB"))
    var checkpointMBytes: Int?

    func apply(to configuration: inout NodeConfiguration) {
        if let checkpointSeconds { configuration.repository.checkpointInterval = .seconds(checkpointSeconds) }
        if let checkpointMBytes { configuration.repository.checkpointLogBytes = checkpointMBytes << 20 }
    }
}
