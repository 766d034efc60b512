import Foundation
import Node
import Repository
import SystemPackage
import Testing
import Tranlog
import TransportUV

@Suite("Full backups and checkpoint suspension over the admin API")
struct BackupAPITests {
    @Test("a full backup to one file, then read back whole by BackupReader")
    func singleFile() throws {
        try withNode { fixture in
            let last = try fixture.writeObjects(50, prefix: "k")
            let file = fixture.root.appendingPathComponent("backup-1").path
            let summary = try fixture.client.fullBackup(FullBackupRequest(files: [file], label: "nightly"), token: fixture.adminToken)
            #expect(summary.files == [file])
            #expect(summary.objectCount == 50)
            #expect(summary.byteCount == summary.uncompressedBytes)
            let reader = try BackupReader.open([FilePath(file)], fileSystem: PosixFileSystem())
            #expect(reader.description.label == "nightly")
            #expect(reader.description.repositoryID == fixture.repositoryConfig.repositoryID)
            #expect(reader.description.position.seqno >= last.seqno)
            #expect(try reader.verify().objectCount == 50)
        }
    }

    @Test("mbytes as one number limits every file but the last; as a list, each file")
    func multiFile() throws {
        try withNode { fixture in
            // About 2.5 MiB of incompressible values: more than two 1 MiB files hold.
            try fixture.writeObjects(320, prefix: "k", valueBytes: 8 << 10)
            let names = (1...3).map { fixture.root.appendingPathComponent("every-\($0)").path }
            let every = try fixture.client.fullBackup(FullBackupRequest(files: names, mbytes: .everyFile(1)), token: fixture.adminToken)
            #expect(every.files == names)
            try expectReadable(every, objects: 320)

            let listed = (1...3).map { fixture.root.appendingPathComponent("listed-\($0)").path }
            let perFile = try fixture.client.fullBackup(FullBackupRequest(files: listed, mbytes: .perFile([2, 0])), token: fixture.adminToken)
            // The first file takes 2 MiB; the second is unlimited (0), so the third is never needed.
            #expect(perFile.files == Array(listed.prefix(2)))
            #expect(!FileManager.default.fileExists(atPath: listed[2]))
            try expectReadable(perFile, objects: 320)
        }
    }

    @Test("a compressed backup gets .gz and is smaller than its content")
    func compressed() throws {
        try withNode { fixture in
            try fixture.writeObjects(200, prefix: "k", valueBytes: 1024, compressible: true)
            let file = fixture.root.appendingPathComponent("backup").path
            let summary = try fixture.client.fullBackup(FullBackupRequest(files: [file], compress: true), token: fixture.adminToken)
            #expect(summary.files == [file + ".gz"])
            #expect(summary.byteCount * 10 < summary.uncompressedBytes)
            try expectReadable(summary, objects: 200)
        }
    }

    @Test("refused targets and requests are 400 naming the problem, and nothing is created")
    func refusals() throws {
        try withNode { fixture in
            try fixture.writeObjects(5, prefix: "k")
            let existing = fixture.root.appendingPathComponent("existing")
            try Data("keep".utf8).write(to: existing)
            let fresh = fixture.root.appendingPathComponent("fresh").path
            let cases: [(body: String, mentions: String)] = [
                (#"{"files": ["\#(fresh)", "\#(existing.path)"]}"#, "\(existing.path) already exists"),
                (#"{"files": ["\#(fixture.root.path)/missing/b"]}"#, "\(fixture.root.path)/missing is unusable"),
                (#"{"files": ["\#(fresh)", ""]}"#, "target 1 has an empty file name"),
                (#"{"files": []}"#, "files: at least one path is needed"),
                (#"{"files": ["relative/b"]}"#, "files[0]: 'relative/b' is not an absolute path"),
                (#"{"files": ["\#(fresh)"], "mbytes": [1, 2]}"#, "mbytes: 2 limits for 1 files"),
                (#"{"files": ["\#(fresh)"], "mbytes": "big"}"#, "mbytes"),
                (#"{"files": "\#(fresh)"}"#, "files: expected an array"),
            ]
            let before = try directoryListing(fixture.root)
            for (body, mentions) in cases {
                let response = try fixture.admin("POST", "/admin/backup/full", body: body)
                #expect(response.status == 400, "\(body): \(response.text)")
                #expect(response.text.contains(mentions), "\(body): \(response.text)")
            }
            #expect(try directoryListing(fixture.root) == before)
            #expect(try String(contentsOf: existing, encoding: .utf8) == "keep")
        }
    }

    /// Not deterministic in the strict sense: the first backup must still be running when the
    /// second arrives. It writes ~40 MiB of incompressible values compressed (seconds in a debug
    /// build) and the test waits until `GET /status` shows it running; the second request follows
    /// within a millisecond or so.
    @Test("a second backup while one runs is 409 naming the first")
    func busy() throws {
        try withNode { fixture in
            try fixture.writeObjects(5_000, prefix: "k", valueBytes: 8 << 10)
            let first = fixture.root.appendingPathComponent("first").path
            let firstDone = DispatchSemaphore(value: 0)
            let background = try NodeClient(address: fixture.node.httpAddress, timeout: .seconds(120), logger: quietLogger)
            defer { background.close() }
            let token = try fixture.adminToken
            DispatchQueue.global().async {
                _ = try? background.fullBackup(FullBackupRequest(files: [first], compress: true), token: token)
                firstDone.signal()
            }
            let deadline = ContinuousClock.now + .seconds(60)
            while try fixture.client.status().repository.backup == nil {
                try #require(ContinuousClock.now < deadline, "the first backup never showed in GET /status")
            }
            let second = try fixture.admin("POST", "/admin/backup/full", body: #"{"files": ["\#(fixture.root.path)/second"]}"#)
            #expect(firstDone.wait(timeout: .now() + 120) == .success)
            #expect(second.status == 409, "\(second.text)")
            #expect(second.text.contains("a full backup to \(first).gz is already in progress"), "\(second.text)")
            #expect(!FileManager.default.fileExists(atPath: fixture.root.path + "/second"))
            #expect(try fixture.client.status().repository.backup == nil)
        }
    }

    @Test("suspend, status and resume checkpoints; resume says whether they were still suspended")
    func checkpointSuspension() throws {
        try withNode { fixture in
            let token = try fixture.adminToken
            let initially = try fixture.client.checkpointSuspension(token: token)
            #expect(!initially.suspended && initially.secondsRemaining == 0)
            let suspended = try fixture.client.suspendCheckpoints(minutes: 5, token: token)
            #expect(suspended.suspended)
            #expect((290...300).contains(suspended.secondsRemaining))
            #expect(try fixture.client.checkpointSuspension(token: token).suspended)
            #expect(try fixture.client.status().repository.checkpoint.suspension.suspended)
            #expect(try fixture.client.resumeCheckpoints(token: token).wereStillSuspended)
            #expect(try !fixture.client.resumeCheckpoints(token: token).wereStillSuspended)
            #expect(try !fixture.client.checkpointSuspension(token: token).suspended)

            let zero = try fixture.admin("POST", "/admin/checkpoints/suspend", body: #"{"minutes": 0}"#)
            #expect(zero.status == 400)
            #expect(zero.text.contains("minutes: 0 is not from 1 to"))
        }
    }

    @Test("every admin route wants the token", arguments: [
        ("POST", "/admin/backup/full"), ("GET", "/admin/checkpoints"), ("POST", "/admin/checkpoints/suspend"),
        ("POST", "/admin/checkpoints/resume"), ("POST", "/admin/restore/backup"), ("POST", "/admin/restore/logs"),
        ("POST", "/admin/restore/commit"), ("POST", "/admin/fence"), ("POST", "/admin/unfence"),
    ])
    func needsToken(method: String, path: String) throws {
        try withNode { fixture in
            let missing = try fixture.send(method, path)
            let wrong = try fixture.send(method, path, headers: ["Authorization": "Bearer " + String(repeating: "0", count: 64)])
            #expect(missing.status == 401 && wrong.status == 403)
        }
    }

    private func expectReadable(_ summary: BackupSummary, objects: Int) throws {
        let reader = try BackupReader.open(summary.files.map { FilePath($0) }, fileSystem: PosixFileSystem())
        let verified = try reader.verify()
        #expect(verified.objectCount == objects)
        #expect(verified.byteCount == summary.byteCount)
    }
}
