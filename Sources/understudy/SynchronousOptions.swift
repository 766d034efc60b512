import ArgumentParser
import Node

/// `start`'s synchronous replication flags (docs/OPERATIONS.md, "Synchronous replication").
struct SynchronousOptions: ParsableArguments {
    @Option(name: .customLong("synchronous-standbys"), help: ArgumentHelp(
        "Acknowledge a commit only once N standbys acknowledged it too (default 0: asynchronous). Needs --replication-key-file.",
        valueName: "N"))
    var standbys = 0

    @Option(name: .customLong("synchronous-level"), help: ArgumentHelp(
        "What those standbys must have done with the commit: received, flushed (default) or applied.", valueName: "LEVEL"),
            transform: SynchronousOptions.level)
    var level = SynchronousLevel.flushed

    @Option(name: .customLong("synchronous-fallback-after"), help: ArgumentHelp(
        "With too few synchronous standbys for this long, acknowledge commits asynchronously until enough caught up "
            + "(default: commits wait as long as it takes).", valueName: "SECONDS"), transform: ArgumentParsing.seconds)
    var fallbackAfter: Double?

    func validate() throws {
        if standbys < 0 { throw ValidationError("--synchronous-standbys must be 0 (asynchronous) or more") }
    }

    func apply(to configuration: inout NodeConfiguration) {
        configuration.synchronous.standbys = standbys
        configuration.synchronous.level = level
        configuration.synchronous.fallbackAfter = fallbackAfter.map { ArgumentParsing.duration(seconds: $0) }
    }

    static func level(_ text: String) throws -> SynchronousLevel {
        guard let level = SynchronousLevel(rawValue: text) else {
            throw ValidationError("'\(text)' is not a level: write received, flushed or applied")
        }
        return level
    }
}
