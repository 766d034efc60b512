import ArgumentParser
import Foundation
import Node
import Repository

/// `understudy backup full --to FILE…`: the manual's fullBackupTo:MBytes: and
/// fullBackupCompressedTo:MBytes:, made by the node while commits go on.
struct BackupFull: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "full",
        abstract: "Write a full backup of a running node's repository to one or more files.",
        discussion: """
            Every live object as of one position, transactionally consistent, written while commits go on. \
            The files must not exist and their directories must; relative paths are relative to the current \
            directory. With several files, --mbytes N moves on to the next file once one holds N MiB (every \
            file but the last); --mbytes N1,N2,… gives each file its own limit. The last file is never \
            limited; 0 means no limit. One backup at a time per node. Progress is shown on a terminal.
            \(AdminOptions.tokenHelp)
            """)

    @Option(name: .customLong("to"), parsing: .upToNextOption, help: ArgumentHelp("The backup's files, in order.", valueName: "FILE"))
    var files: [String]

    @Option(help: ArgumentHelp("Size limit in MiB of every file but the last (N), or of each file (N,N,…).", valueName: "N[,N…]"),
            transform: Self.sizeLimits)
    var mbytes: BackupSizeLimits?

    @Flag(help: "Write the files gzip-compressed.")
    var compress = false

    @Option(help: "A label stored in the backup (shown by `backup verify`).")
    var label: String?

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print the backup summary as JSON.")
    var json = false

    func run() throws {
        let summary = try backUp()
        if json { return print(try jsonLine(summary)) }
        print("Full backup completed to file\(summary.files.count == 1 ? "" : "s"): \(summary.files.joined(separator: ", "))")
        if summary.files != files.map(absolutePath) {
            printToStandardError("note: --compress writes gzip files, so .gz was appended to the names given; name them so to verify or restore")
        }
        printFields([
            "objects": "\(summary.objectCount)",
            "bytes": "\(summary.byteCount)" + (compress ? " (\(summary.uncompressedBytes) uncompressed)" : ""),
            "position": summary.position.map { "\($0)" } ?? "unknown",
        ])
    }

    /// The backup's answer comes when it is done; meanwhile a progress line, cleared before any output.
    private func backUp() throws -> BackupSummary {
        let request = FullBackupRequest(files: files.map(absolutePath), mbytes: mbytes, compress: compress, label: label)
        let progress = json ? nil : BackupProgressLine.start(node: admin.node)
        defer { progress?.stop() }
        return try admin.withClient(timeout: AdminOptions.longOperationTimeout) { try $0.fullBackup(request, token: $1) }
    }

    private static func sizeLimits(_ text: String) throws -> BackupSizeLimits {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
            throw ValidationError("'\(text)' is not a size in MiB (N) or a list of sizes (N,N,…); 0 means no limit")
        }
        let limits = parts.map { $0! }
        return text.contains(",") ? .perFile(limits) : .everyFile(limits[0])
    }
}
