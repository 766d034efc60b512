import ArgumentParser
import Node

/// `understudy standby online [--force]`: Tungsten's `replicator online`.
struct StandbyOnlineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "online",
        abstract: "Bring an offline standby online: reconnect and apply from the applied position.",
        discussion: """
            The standby asks its primary for exactly the record after its mirror's last one, and applies \
            what the mirror holds beyond the applied position. After a fault, online re-checks it and \
            refuses, naming it and what to do, while it is still there: a damaged or forked record is \
            applied again, a failed mirror needs a restart of the standby. A refusal by the primary (fork, \
            another repository, logs removed) cannot be checked from here: once fixed, run online --force. \
            A restart also re-checks a fault: the standby starts online, and offline again if it is still there. \
            \(AdminOptions.tokenHelp)
            """)

    @Flag(help: "Clear a refusal by the primary that you have fixed (e.g. by putting a fresh copy in place), and try again.")
    var force = false

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        try printStandbyMode(try admin.withClient { try $0.standbyOnline(force: force, token: $1) }, json: json)
    }
}
