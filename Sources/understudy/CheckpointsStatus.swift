import ArgumentParser

/// `understudy checkpoints status`: the manual's checkpointStatus.
struct CheckpointsStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show whether checkpoints are suspended, and for how long still.", discussion: AdminOptions.tokenHelp)

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print {\"suspended\", \"secondsRemaining\"} as JSON.")
    var json = false

    func run() throws {
        try printSuspension(try admin.withClient { try $0.checkpointSuspension(token: $1) }, json: json)
    }
}
