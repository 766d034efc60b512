import Foundation
import Node
import Repository
import Testing
import Tranlog

@Suite("The restore procedure over the admin API, on a node in restore mode")
struct RestoreAPITests {
    @Test("restore backup, logs (dry run, to a seqno, to the end), commit: epoch 2, writes accepted")
    func backupThenLogs() throws {
        try withNode { source in
            try source.writeObjects(10, prefix: "before")
            let file = source.root.appendingPathComponent("backup").path
            _ = try source.client.fullBackup(FullBackupRequest(files: [file]), token: source.adminToken)
            let backupPosition = try BackupReader.open([.init(file)], fileSystem: PosixFileSystem()).description.position
            for index in 0..<5 { _ = try source.client.put(key: [UInt8]("after\(index)"), value: [UInt8]("v\(index)")) }
            try source.node.stop()
            let archive = source.dataDirectory.tranlogs.string

            try withNode { target in
                try target.restart { try Repository.enterRestoreMode(target.dataDirectory) }
                let token = try target.adminToken
                try expectRestoreModeRefusesWrites(target)

                let restored = try target.client.restoreBackup(files: [file], token: token)
                #expect(restored.message == "The restore from backup completed, with 10 objects restored. Ready for restore from transaction log(s).")
                #expect(restored.restoredTo == backupPosition)

                let dryRun = try target.client.restoreLogs(LogRestoreRequest(archive: [archive], dryRun: true), token: token)
                #expect(dryRun.dryRun && dryRun.message.hasPrefix("Dry run: would apply"))
                #expect(try target.client.status().repository.applied == backupPosition)

                let partway = Seqno(backupPosition.seqno.rawValue + 2)
                let toSeqno = try target.client.restoreLogs(LogRestoreRequest(archive: [archive], target: .seqno(partway)), token: token)
                #expect(toSeqno.lastSeqno == partway && !toSeqno.reachedEndOfLogs)
                #expect(toSeqno.message.contains("Stopped at seqno \(partway)"))
                #expect(try target.client.status().restoreStatus.hasPrefix("Restoring from transaction log files, restored to "))

                let toEnd = try target.client.restoreLogs(LogRestoreRequest(archive: [archive]), token: token)
                #expect(toEnd.reachedEndOfLogs && toEnd.message.hasPrefix("Restore from transaction log(s) succeeded"))

                let committed = try target.client.commitRestore(token: token)
                #expect(committed.epoch == Epoch(2) && committed.warning == nil)
                #expect(try target.client.status().restoreStatus == "Restore is not active")
                #expect(try target.client.put(key: [UInt8]("new"), value: [1]).epoch == Epoch(2))
                #expect(try target.client.get(key: [UInt8]("after4"))?.value == [UInt8]("v4"))
                #expect(try target.client.get(key: [UInt8]("before9")) != nil)

                let again = try target.admin("POST", "/admin/restore/commit")
                #expect(again.status == 409 && again.text.contains("Restore is not active"))
            }
        }
    }

    @Test("commit right after restoring a backup warns that transactions may be missing")
    func commitWithoutLogs() throws {
        try withNode { source in
            try source.writeObjects(3, prefix: "k")
            let file = source.root.appendingPathComponent("backup").path
            _ = try source.client.fullBackup(FullBackupRequest(files: [file]), token: source.adminToken)
            try withNode { target in
                try target.restart { try Repository.enterRestoreMode(target.dataDirectory) }
                _ = try target.client.restoreBackup(files: [file], token: target.adminToken)
                let committed = try target.client.commitRestore(token: target.adminToken)
                #expect(committed.warning == "commitRestore not immediately preceded by a complete log restore: some transactions may not be restored")
            }
        }
    }

    @Test("refusals: not in restore mode 409, bad targets 400, missing logs 422, damaged backup 422")
    func refusals() throws {
        try withNode { fixture in
            let notRestoring = try fixture.admin("POST", "/admin/restore/logs", body: "{}")
            #expect(notRestoring.status == 409 && notRestoring.text.contains("Restore is not active"))

            try fixture.restart { try Repository.enterRestoreMode(fixture.dataDirectory) }
            let twoTargets = try fixture.admin("POST", "/admin/restore/logs", body: #"{"toSeqno": 3, "toEndOfLog": 2}"#)
            #expect(twoTargets.status == 400 && twoTargets.text.contains("give at most one of them"))
            let badTime = try fixture.admin("POST", "/admin/restore/logs", body: #"{"toTime": "yesterday"}"#)
            #expect(badTime.status == 400 && badTime.text.contains("toTime: 'yesterday' is not an ISO 8601 time"))

            let empty = fixture.root.appendingPathComponent("empty-archive")
            try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
            let missing = try fixture.admin("POST", "/admin/restore/logs", body: #"{"archive": ["\#(empty.path)"]}"#)
            #expect(missing.status == 422, "\(missing.text)")
            #expect(missing.text.contains("tranlog1.dbf"), "\(missing.text)")

            let damaged = fixture.root.appendingPathComponent("not-a-backup")
            try Data("hello".utf8).write(to: damaged)
            let unusable = try fixture.admin("POST", "/admin/restore/backup", body: #"{"files": ["\#(damaged.path)"]}"#)
            #expect(unusable.status == 422 && unusable.text.contains("is not a full backup file"), "\(unusable.text)")
            let absent = try fixture.admin("POST", "/admin/restore/backup", body: #"{"files": ["\#(fixture.root.path)/absent"]}"#)
            #expect(absent.status == 400 && absent.text.contains("cannot read \(fixture.root.path)/absent"), "\(absent.text)")
        }
    }

    /// Restore mode refuses ordinary writes, as documented: 503 with the reason.
    private func expectRestoreModeRefusesWrites(_ fixture: NodeFixture) throws {
        let status = try fixture.client.status()
        #expect(status.role == "restoring")
        let refused = try fixture.send("PUT", "/objects/k", body: "v")
        #expect(refused.status == 503 && refused.text.contains("repository is in restore mode"))
    }
}
