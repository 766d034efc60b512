import Foundation
import Node
import Repository
import Testing
import Tranlog

/// `start --archive-command` against a real S3-compatible server on loopback (moto) with the AWS CLI.
@Suite("Archiving through a command into S3 (moto)")
struct ArchiveCommandTests {
    static let bucket = "understudy-archive"
    /// One prefix per repository, as the operations guide advises.
    static let prefix = "primary"

    /// The archive command, which also notes each file it stored successfully in `journal`: the
    /// order and the number of times each file went to the bucket.
    static func archiveCommand(_ moto: MotoServer, journal: URL) -> String {
        "\(moto.awsCommand) s3 cp --only-show-errors %p s3://\(bucket)/\(prefix)/%f && echo %f >> \(journal.path)"
    }

    static func fileNames(_ range: ClosedRange<UInt64>) -> [String] { range.map { "tranlog\($0).dbf" } }

    @Test("archives through aws s3 cp in order; an outage of the store is retried, shown and recovered from, nothing lost or stored twice")
    func archiveThroughOutage() throws {
        try withTemporaryDirectory { directory in
            let moto = try MotoServer(logDirectory: directory)
            defer { moto.cleanUp() }
            try moto.makeBucket(Self.bucket)
            let journal = directory.appendingPathComponent("archived.txt")
            let data = directory.appendingPathComponent("primary")
            try StandbyCommandTests.Pair.run(["init", "--data", data.path, "--source-id", "primary"], in: directory)
            let primary = try ServerProcess(data: data, in: directory, extraArguments: [
                "--archive-command", Self.archiveCommand(moto, journal: journal), "--rotation-kbytes", "4",
            ])
            defer { primary.cleanUp() }

            _ = try write(60, prefix: "before", on: primary)
            let before = try waitForArchive(primary)
            #expect(before.command?.contains("s3 cp") == true)
            #expect(before.directory == nil)
            let text = try CLIProcess.run(["status", "--node", primary.url], in: directory).standardOutput
            #expect(text.contains("archive to command `\(Self.archiveCommand(moto, journal: journal))`: archiving"), "\(text)")
            let archivedBefore = try #require(before.lastArchivedFileID?.rawValue)
            #expect(archivedBefore >= 3, "expected several rotations at 4 KiB")
            #expect(try moto.list(Self.bucket, prefix: Self.prefix).sorted() == Self.fileNames(1...archivedBefore).sorted())
            try expectSameBytes(moto, upTo: archivedBefore, as: data, in: directory)

            // The store goes away: commits go on, archiving fails, is retried and shown.
            moto.stop()
            _ = try write(60, prefix: "during", on: primary)
            let failing = try StandbyCommandTests.waitForStatus(of: primary, deadline: 60) { status in
                (status.archive?.failures ?? 0) >= 2 && (status.archive?.backlogFiles ?? 0) >= 2
            }
            let outage = try #require(failing.archive)
            #expect(outage.failingSince != nil)
            #expect(outage.lastError?.contains("tranlog\(archivedBefore + 1).dbf") == true, "\(outage)")
            #expect(outage.lastArchivedFileID?.rawValue == archivedBefore)
            #expect(primary.log.contains("archiving a tranlog failed"))
            let metrics = try StandbyCommandTests.client(primary.url) { try $0.metrics() }
            #expect(metrics.contains("understudy_archive_failures_total"), "\(metrics)")

            // The store comes back (moto restarts empty, as a recreated bucket would be).
            try moto.start()
            try moto.makeBucket(Self.bucket)
            let recovered = try waitForArchive(primary)
            #expect(recovered.failingSince == nil)
            #expect(recovered.lastError == nil)
            let archivedAfter = try #require(recovered.lastArchivedFileID?.rawValue)
            #expect(archivedAfter > archivedBefore + 1)
            #expect(primary.log.contains("archiving works again"))
            #expect(try moto.list(Self.bucket, prefix: Self.prefix).sorted() == Self.fileNames((archivedBefore + 1)...archivedAfter).sorted())
            // Each file stored once, in fileId order, across the outage.
            let stored = try String(contentsOf: journal, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(stored == Self.fileNames(1...archivedAfter))
            #expect(primary.stop(with: SIGTERM) == 0)
        }
    }

    @Test("a warm standby and a point-in-time restore read the bucket back through --restore-command")
    func restoreFromBucket() throws {
        try withTemporaryDirectory { directory in
            let moto = try MotoServer(logDirectory: directory)
            defer { moto.cleanUp() }
            try moto.makeBucket(Self.bucket)
            let data = directory.appendingPathComponent("primary")
            try StandbyCommandTests.Pair.run(["init", "--data", data.path, "--source-id", "primary"], in: directory)
            // Copies taken before the first write: both need every tranlog from tranlog1.dbf on.
            let standbyData = directory.appendingPathComponent("standby"), restoredData = directory.appendingPathComponent("restored")
            #expect(try ExternalBackupTests.copy(data, to: standbyData) == 0)
            #expect(try ExternalBackupTests.copy(data, to: restoredData) == 0)
            let primary = try ServerProcess(data: data, in: directory, extraArguments: [
                "--archive-command", Self.archiveCommand(moto, journal: directory.appendingPathComponent("archived.txt")),
                "--rotation-kbytes", "4",
            ])
            defer { primary.cleanUp() }
            let keys = try write(60, prefix: "key", on: primary)
            let last = try #require(try waitForArchive(primary).lastArchivedFileID?.rawValue)
            let written = try StandbyCommandTests.client(primary.url) { client in
                try keys.keys.map { key in (key, try #require(try client.get(key: Array(key.utf8)))) }
            }
            let restoreCommand = "\(moto.awsCommand) s3 cp --only-show-errors s3://\(Self.bucket)/\(Self.prefix)/%f %p"

            let standby = try ServerProcess([
                "standby", "--data", standbyData.path, "--restore-command", restoreCommand, "--poll-seconds", "0.2", "--http", "127.0.0.1:0",
            ], in: directory)
            defer { standby.cleanUp() }
            let caughtUp = try StandbyCommandTests.waitForStatus(of: standby, deadline: 90) {
                $0.warmStandby?.waitingFor == "tranlog\(last + 1).dbf"
            }
            #expect(caughtUp.warmStandby?.state == "waiting")
            #expect(caughtUp.warmStandby?.archive == restoreCommand)
            #expect(caughtUp.repository.applied.eventID?.fileID.rawValue == last)
            let applied = caughtUp.repository.applied.seqno
            try StandbyCommandTests.client(standby.url) { client in
                for (key, value) in written {
                    let expected = value.seqno <= applied ? value : nil
                    let found = try client.get(key: Array(key.utf8))
                    #expect(found == expected, "\(key) written at \(value.seqno), applied through \(applied)")
                }
            }
            // Fetched files the standby moved past are removed (at its next poll).
            let staging = standbyData.appendingPathComponent("archive-fetch").path
            let deadline = Date().addingTimeInterval(30)
            var staged = try FileManager.default.contentsOfDirectory(atPath: staging)
            while staged != ["tranlog\(last).dbf"] {
                try #require(Date() < deadline, "still staged: \(staged)")
                Thread.sleep(forTimeInterval: 0.05)
                staged = try FileManager.default.contentsOfDirectory(atPath: staging)
            }
            #expect(standby.stop(with: SIGTERM) == 0)

            // Point in time: half-way through what was written.
            let target = Seqno(applied.rawValue / 2)
            let restoring = try ServerProcess(data: restoredData, in: directory, extraArguments: ["--restore-mode"])
            defer { restoring.cleanUp() }
            let restored = try CLIProcess.run([
                "restore", "logs", "--restore-command", restoreCommand, "--to-seqno", "\(target.rawValue)", "--json",
                "--data", restoredData.path, "--node", restoring.url,
            ], in: directory)
            #expect(restored.status == 0, "\(restored.standardError)")
            let report = try JSONDecoder().decode(LogRestoreReport.self, from: Data(restored.standardOutput.utf8))
            #expect(report.restoredTo.seqno == target)
            try StandbyCommandTests.client(restoring.url) { client in
                for (key, value) in written {
                    let expected = value.seqno <= target ? value : nil
                    let found = try client.get(key: Array(key.utf8))
                    #expect(found == expected, "\(key) written at \(value.seqno), restored to \(target)")
                }
            }
            #expect(restoring.stop(with: SIGTERM) == 0)
        }
    }

    /// 200-byte values: at 4 KiB a tranlog, `count` 60 fills about five files.
    func write(_ count: Int, prefix: String, on node: ServerProcess) throws -> [String: String] {
        let keys = Dictionary(uniqueKeysWithValues: (0..<count).map { ("\(prefix)-\($0)", String(repeating: "v\($0)", count: 70)) })
        try StandbyCommandTests.put(keys, on: node.url)
        return keys
    }

    /// Waits until every completed tranlog is archived and archiving is not failing.
    func waitForArchive(_ node: ServerProcess) throws -> ArchiveStatus {
        let status = try StandbyCommandTests.waitForStatus(of: node, deadline: 60) { status in
            guard let archive = status.archive, let open = status.repository.applied.eventID?.fileID else { return false }
            return archive.backlogFiles == 0 && archive.lastArchivedFileID?.next == open && archive.lastError == nil
        }
        return try #require(status.archive)
    }

    /// The bucket's objects are the primary's completed tranlogs byte for byte.
    func expectSameBytes(_ moto: MotoServer, upTo last: UInt64, as data: URL, in directory: URL) throws {
        let copy = directory.appendingPathComponent("from-bucket")
        let synced = try moto.run(["s3", "sync", "--only-show-errors", "s3://\(Self.bucket)/\(Self.prefix)", copy.path])
        try #require(synced.status == 0, "\(synced.output)")
        for name in Self.fileNames(1...last) {
            let fetched = try Data(contentsOf: copy.appendingPathComponent(name))
            let local = try Data(contentsOf: data.appendingPathComponent("tranlogs").appendingPathComponent(name))
            #expect(fetched == local, "\(name) in the bucket differs from the primary's")
        }
    }
}
