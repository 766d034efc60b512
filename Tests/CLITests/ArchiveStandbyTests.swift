import Foundation
import Node
import Testing
import Tranlog

/// Tranlog archiving (`start --archive-dir`) and warm standbys (`standby --archive`) with real processes.
@Suite("Archiving tranlogs and warm standbys with real processes")
struct ArchiveStandbyTests {
    /// A primary archiving into `archive` with small tranlogs, and `standby`: a copy of its repository
    /// taken before its first start (so the warm standby needs every file from tranlog1.dbf on).
    struct ArchivingPrimary {
        let directory: URL
        let primaryData: URL
        let standbyData: URL
        let archive: URL
        var primary: ServerProcess

        init(in directory: URL) throws {
            self.directory = directory
            primaryData = directory.appendingPathComponent("primary")
            standbyData = directory.appendingPathComponent("standby")
            archive = directory.appendingPathComponent("archive")
            try StandbyCommandTests.Pair.run(["init", "--data", primaryData.path, "--source-id", "primary"], in: directory)
            let copy = try ChildProcess.run("/bin/cp", ["-a", primaryData.path, standbyData.path])
            #expect(copy.termination.succeeded, "\(String(decoding: copy.errors, as: UTF8.self))")
            primary = try Self.start(primaryData, archive: archive, in: directory)
        }

        static func start(_ data: URL, archive: URL, in directory: URL) throws -> ServerProcess {
            try ServerProcess(data: data, in: directory, extraArguments: ["--archive-dir", archive.path, "--rotation-kbytes", "4"])
        }

        mutating func restart() throws {
            #expect(primary.stop(with: SIGTERM) == 0)
            primary = try Self.start(primaryData, archive: archive, in: directory)
        }

        /// 60 keys of 200 bytes each: about five 4 KiB tranlogs.
        func write(prefix: String) throws -> [String: String] {
            let keys = Dictionary(uniqueKeysWithValues: (0..<60).map { ("\(prefix)-\($0)", String(repeating: "v\($0)", count: 70)) })
            try StandbyCommandTests.put(keys, on: primary.url)
            return keys
        }

        /// Waits until every completed tranlog is archived; returns the last archived fileId.
        func waitForArchive() throws -> UInt64 {
            let status = try StandbyCommandTests.waitForStatus(of: primary) { status in
                guard let archive = status.archive, let open = status.repository.applied.eventID?.fileID else { return false }
                return archive.backlogFiles == 0 && archive.lastArchivedFileID?.next == open
            }
            #expect(status.archive?.lastError == nil)
            return try #require(status.archive?.lastArchivedFileID?.rawValue)
        }

        func startWarmStandby() throws -> ServerProcess {
            try ServerProcess([
                "standby", "--data", standbyData.path, "--archive", archive.path, "--poll-seconds", "0.1", "--http", "127.0.0.1:0",
            ], in: directory)
        }

        func archived(_ name: String) -> URL { archive.appendingPathComponent(name) }

        func cleanUp() { primary.cleanUp() }
    }

    @Test("archives appear and verify; a restart re-archives a missing file; a warm standby converges over plain and .gz files; promote")
    func archiveConvergeAndPromote() throws {
        try withTemporaryDirectory { directory in
            var setup = try ArchivingPrimary(in: directory)
            defer { setup.cleanUp() }
            let keys = try setup.write(prefix: "key")
            let last = try setup.waitForArchive()
            #expect(last >= 3, "expected several rotations at 4 KiB")
            let text = try CLIProcess.run(["status", "--node", setup.primary.url], in: directory).standardOutput
            #expect(text.contains("archive to \(setup.archive.path): archiving, last archived tranlog\(last).dbf"), "\(text)")
            let verify = try CLIProcess.run(["tranlog", "verify", setup.archive.path], in: directory)
            #expect(verify.status == 0, "\(verify.standardOutput)\(verify.standardError)")

            // After a restart the archiver fills in what is missing and removes its leftovers.
            try FileManager.default.removeItem(at: setup.archived("tranlog2.dbf.gz"))
            try Data([1, 2, 3]).write(to: setup.archived("tranlog9.dbf.gz.tmp"))
            try setup.restart()
            #expect(try setup.waitForArchive() == last)
            #expect(FileManager.default.fileExists(atPath: setup.archived("tranlog2.dbf.gz").path))
            #expect(!FileManager.default.fileExists(atPath: setup.archived("tranlog9.dbf.gz.tmp").path))
            // Plain and compressed files mix in one archive.
            let gunzip = try ChildProcess.run("/usr/bin/gzip", ["-d", setup.archived("tranlog2.dbf.gz").path])
            #expect(gunzip.termination.succeeded, "\(String(decoding: gunzip.errors, as: UTF8.self))")

            let standby = try setup.startWarmStandby()
            defer { standby.cleanUp() }
            let caughtUp = try StandbyCommandTests.waitForStatus(of: standby) { $0.warmStandby?.waitingFor == "tranlog\(last + 1).dbf" }
            #expect(caughtUp.role == "standby")
            #expect(caughtUp.warmStandby?.state == "waiting")
            #expect(caughtUp.restoreStatus.hasPrefix("Restoring from transaction log files"), "\(caughtUp.restoreStatus)")
            let applied = caughtUp.repository.applied.seqno
            #expect(caughtUp.warmStandby?.appliedSeqno == applied)
            #expect(caughtUp.repository.applied.eventID?.fileID.rawValue == last)
            var present = 0
            try StandbyCommandTests.client(setup.primary.url) { primaryClient in
                try StandbyCommandTests.client(standby.url) { standbyClient in
                    for key in keys.keys {
                        let onPrimary = try #require(try primaryClient.get(key: Array(key.utf8)))
                        let onStandby = try standbyClient.get(key: Array(key.utf8))
                        if onPrimary.seqno <= applied {
                            #expect(onStandby == onPrimary, "\(key) written at \(onPrimary.seqno), standby applied through \(applied)")
                            present += 1
                        } else {
                            #expect(onStandby == nil, "\(key) is beyond the archive")
                        }
                    }
                }
            }
            #expect(present > keys.count / 2)

            #expect(setup.primary.stop(with: SIGKILL) != 0)
            let promoted = try CLIProcess.run(["promote", "--node", standby.url, "--data", setup.standbyData.path, "--json"], in: directory)
            #expect(promoted.status == 0, "\(promoted.standardError)")
            let report = try JSONDecoder().decode(PromoteReport.self, from: Data(promoted.standardOutput.utf8))
            #expect(report.promoted)
            #expect(report.epoch.rawValue == 2)
            #expect(report.applied.seqno == applied)
            try StandbyCommandTests.client(standby.url) { client in
                _ = try client.put(key: Array("after-promotion".utf8), value: Array("written".utf8))
                let status = try client.status()
                #expect(status.role == "primary")
                #expect(status.warmStandby?.state == "promoted")
            }
            #expect(standby.stop(with: SIGTERM) == 0)
        }
    }

    @Test("a corrupt archive file stops the warm standby naming the file, refuses promote, and applying resumes once it is replaced")
    func corruptFileStopsUntilReplaced() throws {
        try withTemporaryDirectory { directory in
            let setup = try ArchivingPrimary(in: directory)
            defer { setup.cleanUp() }
            _ = try setup.write(prefix: "key")
            let last = try setup.waitForArchive()
            let damaged = setup.archived("tranlog2.dbf.gz")
            let good = try Data(contentsOf: damaged)
            var garbled = good
            for index in garbled.count / 3..<garbled.count / 3 + 40 { garbled[index] ^= 0x5A }
            try garbled.write(to: damaged)

            let standby = try setup.startWarmStandby()
            defer { standby.cleanUp() }
            let stopped = try StandbyCommandTests.waitForStatus(of: standby) { $0.warmStandby?.state.hasPrefix("failed") == true }
            let state = try #require(stopped.warmStandby?.state)
            #expect(state.contains(damaged.path), "\(state)")
            #expect(stopped.repository.applied.eventID?.fileID.rawValue == 1, "file 1 is applied, nothing of file 2")
            #expect(standby.log.contains("tranlog2.dbf.gz"), "the failure is logged")
            let refused = try CLIProcess.run(["promote", "--node", standby.url, "--data", setup.standbyData.path], in: directory)
            #expect(refused.status != 0)
            #expect(refused.standardError.contains("not promoted"), "\(refused.standardError)")

            // Replaced atomically, as an operator would: the standby carries on by itself.
            let replacement = directory.appendingPathComponent("tranlog2.dbf.gz")
            try good.write(to: replacement)
            #expect(rename(replacement.path, damaged.path) == 0)
            let resumed = try StandbyCommandTests.waitForStatus(of: standby) { $0.warmStandby?.waitingFor == "tranlog\(last + 1).dbf" }
            #expect(resumed.warmStandby?.state == "waiting")
            #expect(resumed.repository.applied.eventID?.fileID.rawValue == last)
            #expect(standby.stop(with: SIGTERM) == 0)
        }
    }

    @Test("a failing copy is reported with the file and the reason, the file stays in the backlog, and the retry succeeds")
    func failedCopyIsReportedAndRetried() throws {
        try withTemporaryDirectory { directory in
            let setup = try ArchivingPrimary(in: directory)
            defer { setup.cleanUp() }
            _ = try StandbyCommandTests.waitForStatus(of: setup.primary) { $0.archive?.state == "archiving" }
            // A directory where the copy's temporary file must go: removing it fails (EISDIR), like a
            // permission problem would for a non-root user.
            let obstacle = setup.archived("tranlog1.dbf.gz.tmp")
            try FileManager.default.createDirectory(at: obstacle, withIntermediateDirectories: false)
            _ = try setup.write(prefix: "key")
            let failing = try StandbyCommandTests.waitForStatus(of: setup.primary) { $0.archive?.lastError != nil }
            let archive = try #require(failing.archive)
            #expect(archive.lastError?.contains("archiving tranlog1.dbf") == true, "\(archive)")
            #expect(archive.lastError?.contains(obstacle.path) == true, "\(archive)")
            #expect(archive.backlogFiles >= 1)
            #expect(archive.failures >= 1)
            #expect(setup.primary.log.contains("archiving a tranlog failed"))

            try FileManager.default.removeItem(at: obstacle)
            let last = try setup.waitForArchive()
            #expect(last >= 3)
            #expect(try StandbyCommandTests.client(setup.primary.url) { try $0.status().archive?.lastError } == nil)
        }
    }

    @Test("standby takes --primary or --archive, not both")
    func primaryAndArchiveExcludeEachOther() throws {
        try withTemporaryDirectory { directory in
            let result = try CLIProcess.run([
                "standby", "--data", directory.path, "--primary", "127.0.0.1:1", "--replication-key-file", "key", "--archive", directory.path,
            ], in: directory)
            #expect(result.status != 0)
            #expect(result.standardError.contains("exclude each other"), "\(result.standardError)")
        }
    }
}
