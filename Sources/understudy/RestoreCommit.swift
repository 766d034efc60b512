import ArgumentParser

/// `understudy restore commit`: the manual's commitRestore.
struct RestoreCommit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit",
        abstract: "Finish the restore: open a new epoch and accept commits. No logs can be restored afterwards.",
        discussion: """
            Run it after a complete `restore logs`: committing earlier abandons the records not yet applied \
            (a fork in time), and prints a warning saying so. \(AdminOptions.tokenHelp)
            """)

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print the commit report as JSON.")
    var json = false

    func run() throws {
        let report = try admin.withClient(timeout: AdminOptions.longOperationTimeout) { try $0.commitRestore(token: $1) }
        if json { return print(try jsonLine(report)) }
        // On stderr too, where an operator watching a script's log will see it.
        if let warning = report.warning { printToStandardError("WARNING: \(warning)") }
        print(report.message)
        if !report.setAside.isEmpty { print("tranlogs of the abandoned timeline set aside: \(report.setAside.joined(separator: ", "))") }
    }
}
