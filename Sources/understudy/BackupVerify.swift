import ArgumentParser
import Foundation
import Repository
import SystemPackage
import Tranlog

/// `understudy backup verify FILE…`: the manual's `copydbf FILE /dev/null`, offline.
struct BackupVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Read every byte of a full backup and check every checksum (no node needed).",
        discussion: """
            Give every file of the backup, in the order written. Exit status 0: the backup can be restored; \
            prints its objects, position (seqno, epoch, event id, time), repository id, logging mode and label. \
            Exit status 1: prints the first damage found (file, part, offset) and what to do about it.
            """)

    @Argument(help: "The backup's files, part 0 first.")
    var files: [String]

    @Flag(help: "Print the backup's description and summary as JSON.")
    var json = false

    /// `--json`: what the backup says about itself, and what reading it found.
    struct Report: Encodable {
        var backup: BackupDescription
        var summary: BackupSummary
    }

    func run() throws {
        for file in files where !FileManager.default.fileExists(atPath: file) && FileManager.default.fileExists(atPath: file + ".gz") {
            throw CommandError("\(file) does not exist, but \(file).gz does: `backup full --compress` appends .gz to the names it is given. Verify \(file).gz")
        }
        let reader = try BackupReader.open(files.map { FilePath($0) }, fileSystem: PosixFileSystem())
        let report = Report(backup: reader.description, summary: try reader.verify())
        if json { return print(try jsonDocument(report)) }
        let backup = report.backup
        let position = backup.position
        print("Backup verified: every byte read, every checksum correct")
        printFields([
            "files": report.summary.files.joined(separator: ", "),
            "objects": "\(report.summary.objectCount)",
            "bytes": "\(report.summary.byteCount) (\(report.summary.uncompressedBytes) uncompressed)",
            "position": "seqno \(position.seqno), epoch \(position.epoch)" + (position.eventID.map { ", event \($0)" } ?? "")
                + (position.time.map { ", \($0)" } ?? ""),
            "repository": "\(backup.repositoryID)",
            "logging mode": backup.loggingMode.rawValue,
            "backup id": backup.backupID.uuidString.lowercased(),
            "created": "\(backup.createdAt)",
            "label": backup.label ?? "(none)",
        ])
    }
}
