import ArgumentParser

/// `understudy extent …`: offline tools for a data directory's extents (MANIFEST and runs).
struct ExtentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extent",
        abstract: "Inspect a data directory's extents (MANIFEST and extent runs).",
        subcommands: [ExtentInspect.self])
}
