import ArgumentParser
import Foundation
import Node
import Repository
import SystemPackage
import Tranlog

/// `understudy backup snapshot --to DIR`: the manual's online extent snapshot — suspend checkpoints,
/// copy the data directory, resume checkpoints, and check they were still suspended.
struct BackupSnapshot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Copy a running node's data directory with checkpoints suspended (an online extent snapshot).",
        discussion: """
            Runs on the node's machine: suspends checkpoints for --minutes, copies everything in the data \
            directory but its LOCK into DIR (which must not exist, or be empty), then resumes checkpoints. \
            Commits go on meanwhile; the copy recovers like a node after a crash (`understudy start --data DIR`), \
            or can be rolled forward in restore mode (`start --restore-mode`, `restore logs`, `restore commit`). \
            If the suspension lapsed before the copy finished, the copy is unusable: exit status 1, and nothing \
            is deleted. Choose --minutes well above the time the copy takes.
            \(AdminOptions.tokenHelp)
            """)

    @Option(name: .customLong("to"), help: ArgumentHelp("Where the copy goes: a new or empty directory.", valueName: "DIR"))
    var target: String

    @Option(help: "How long checkpoints stay suspended at most (default 10); they are resumed as soon as the copy is done.")
    var minutes: UInt64 = 10

    @OptionGroup var admin: AdminOptions

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    struct Report: Encodable {
        var dataDirectory: String
        var copiedTo: String
        var suspension: CheckpointSuspensionStatus
        var wereStillSuspended: Bool
    }

    func run() throws {
        let target = absolutePath(self.target)
        try Self.prepare(target)
        let report = try admin.withClient { client, token in
            let source = try client.status().dataDirectory
            let suspension = try client.suspendCheckpoints(minutes: minutes, token: token)
            let copied = Result { try Self.copy(source, to: target) }
            // Resumed even when the copy failed: checkpoints must not stay suspended for nothing.
            let resumed = try client.resumeCheckpoints(token: token)
            try copied.get()
            return Report(dataDirectory: source, copiedTo: target, suspension: suspension, wereStillSuspended: resumed.wereStillSuspended)
        }
        guard report.wereStillSuspended else {
            throw CommandError("""
                checkpoints were no longer suspended when the copy finished: the suspension of \(minutes) minutes lapsed, and a \
                checkpoint may have changed the extents during the copy. The copy in \(target) is NOT a usable backup (nothing \
                was deleted). Take the snapshot again with a larger --minutes
                """)
        }
        if json { return print(try jsonLine(report)) }
        print("Extent snapshot of \(report.dataDirectory) copied to \(target) with checkpoints suspended")
        print("checkpoints resumed; they were still suspended, so the copy is usable")
    }

    private static func prepare(_ target: String) throws {
        let files = FileManager.default
        if files.fileExists(atPath: target) {
            guard try files.contentsOfDirectory(atPath: target).isEmpty else {
                throw CommandError("\(target) is not empty: a snapshot goes into a new or empty directory")
            }
        } else {
            try files.createDirectory(atPath: target, withIntermediateDirectories: false)
        }
    }

    /// Copies entry by entry (FileManager keeps permissions, so admin.token stays owner-only).
    private static func copy(_ source: String, to target: String) throws {
        try copyTree(source, to: target, excluding: try DataDirectory(FilePath(source)).notCopied())
    }

    /// Every entry but `excluded` and the transient files the running node renames into place
    /// meanwhile (`TransientFile`), at any depth: one of those may vanish before it is read. Any other
    /// file that vanishes fails the copy.
    private static func copyTree(_ source: String, to target: String, excluding excluded: Set<String> = []) throws {
        let files = FileManager.default
        for name in try files.contentsOfDirectory(atPath: source).sorted() where !excluded.contains(name) && !TransientFile.matches(name) {
            let (from, to) = (source + "/" + name, target + "/" + name)
            let attributes = try files.attributesOfItem(atPath: from)
            guard attributes[.type] as? FileAttributeType == .typeDirectory else {
                try files.copyItem(atPath: from, toPath: to)
                continue
            }
            try files.createDirectory(atPath: to, withIntermediateDirectories: false, attributes: [.posixPermissions: attributes[.posixPermissions] ?? 0o700])
            try copyTree(from, to: to)
        }
    }
}
