import ArgumentParser

/// `understudy standby run|offline|online|pause|resume`: run a standby (the default, so `understudy
/// standby --data DIR --primary …` keeps working), take a running one offline and online, or pause
/// and resume its apply.
struct StandbyGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "standby",
        abstract: "Run a standby of a primary, take a running standby offline and online, or pause and resume its apply.",
        subcommands: [
            StandbyCommand.self, StandbyOfflineCommand.self, StandbyOnlineCommand.self, StandbyPauseCommand.self, StandbyResumeCommand.self,
        ],
        defaultSubcommand: StandbyCommand.self)
}
