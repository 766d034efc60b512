import ArgumentParser

/// `understudy standby run|offline|online`: run a standby (the default, so `understudy standby
/// --data DIR --primary …` keeps working), or take a running one offline and online.
struct StandbyGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "standby",
        abstract: "Run a standby of a primary, or take a running standby offline and online.",
        subcommands: [StandbyCommand.self, StandbyOfflineCommand.self, StandbyOnlineCommand.self],
        defaultSubcommand: StandbyCommand.self)
}
