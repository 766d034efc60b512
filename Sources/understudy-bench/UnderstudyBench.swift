import ArgumentParser

/// `understudy-bench`: benchmarks that print figures. Never part of `swift test`.
@main
struct UnderstudyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "understudy-bench",
        abstract: "Measure Understudy on this machine and print the figures as Markdown.",
        discussion: "Build in release mode for meaningful figures: swift build -c release --product understudy-bench",
        subcommands: [TranlogBenchmark.self, RecoveryBenchmark.self, RecoveryWriter.self, MemoryBenchmark.self])
}
