import ArgumentParser
import Foundation
import Repository
import SystemPackage
import Tranlog

/// `understudy init --data DIR`: creates a repository (config, epoch history, admin token, first tranlog).
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a new repository in a data directory.",
        discussion: "The directory's parent must exist; a directory that already holds a repository is refused.")

    @Option(help: ArgumentHelp("The data directory to create.", valueName: "DIR"))
    var data: String

    @Option(help: ArgumentHelp(
        "full: keep every tranlog until purged or archived (point-in-time restore works); "
            + "partial: remove tranlogs once a checkpoint no longer needs them.",
        valueName: "full|partial"),
        transform: Self.loggingMode)
    var logging = LoggingMode.full

    @Option(name: .customLong("source-id"), help: ArgumentHelp(
        "The name this node writes into every record (default: the host name).", valueName: "NAME"),
        transform: ArgumentParsing.sourceID)
    var sourceID: SourceID?

    func run() throws {
        let source = sourceID ?? SourceID(ProcessInfo.processInfo.hostName) ?? SourceID("understudy")!
        let config = try DataDirectory.initialize(FilePath(data), sourceID: source, loggingMode: logging)
        printFields([
            "repository": "\(config.repositoryID)",
            "data directory": data,
            "logging mode": config.loggingMode.rawValue,
            "source id": "\(config.sourceID)",
        ])
    }

    private static func loggingMode(_ text: String) throws -> LoggingMode {
        guard let mode = LoggingMode(rawValue: text) else { throw ValidationError("--logging is full or partial, not '\(text)'") }
        return mode
    }
}
