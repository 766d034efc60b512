import ArgumentParser

/// `understudy restore backup FILE…`: the manual's restoreFromBackup(s):.
struct RestoreBackup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Replace the restoring node's content with a full backup.",
        discussion: """
            Give every file of the backup in the order written (compressed or not). The whole backup is read \
            and checked before anything changes. \(AdminOptions.tokenHelp)
            """)

    @Argument(help: "The backup's files, part 0 first.")
    var files: [String]

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print the restore report as JSON.")
    var json = false

    func run() throws {
        let report = try admin.withClient(timeout: AdminOptions.longOperationTimeout) {
            try $0.restoreBackup(files: files.map(absolutePath), token: $1)
        }
        if json { return print(try jsonLine(report)) }
        print(report.message)
        printFields(["objects": "\(report.objectCount)", "restored to": "\(report.restoredTo)", "repository": "\(report.repositoryID)"])
    }
}
