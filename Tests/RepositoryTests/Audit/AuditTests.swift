import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

@testable import Repository

/// The page and object audits against a repository built through the library, then damaged one way
/// at a time (etcd's repair_test style): each damage must be reported precisely, and the audit must
/// go on to check everything else.
@Suite struct AuditTests {
    static let directory = DataDirectory(nodeRoot)

    /// 65 commits in three checkpoints, over small tranlog files so there are several:
    /// run 1 puts key-000…029; run 2 puts key-020…039 and deletes key-000…004; run 3 (the clean
    /// shutdown's checkpoint) puts key-040…049. 45 objects remain.
    static func repository() async throws -> (fileSystem: SimulatedFileSystem, lastCommit: CommitOutcome) {
        let fileSystem = try initializedFileSystem()
        let repository = try openRepository(fileSystem, testConfiguration(rotationBytes: 4096))
        let value = String(repeating: "v", count: 200)
        for index in 0..<30 { _ = try await repository.commit(put(key(index), value)) }
        try repository.checkpoint()
        for index in 20..<40 { _ = try await repository.commit(put(key(index), value)) }
        for index in 0..<5 { _ = try await repository.commit(Transaction(operations: [.delete(key: bytes(key(index)))])) }
        try repository.checkpoint()
        var lastCommit: CommitOutcome?
        for index in 40..<50 { lastCommit = try await repository.commit(put(key(index), value)) }
        try repository.close()
        return (fileSystem, lastCommit!)
    }

    static func key(_ index: Int) -> String { "key-" + String(repeating: "0", count: 3 - String(index).count) + String(index) }

    static func runPath(_ generation: UInt64) -> FilePath { directory.extents.appending(ExtentRunSummary.fileName(generation: generation)) }
    static func tranlogPath(_ fileID: UInt64) -> FilePath { directory.tranlogs.appending(FileID(fileID).fileName) }
    static var manifestPath: FilePath { directory.extents.appending(ManifestStore.fileName) }

    static func flipByte(at offset: Int, of path: FilePath, in fileSystem: SimulatedFileSystem) {
        var bytes = fileSystem.contents(of: path)!
        bytes[offset] ^= 0x40
        fileSystem.overwrite(path, with: bytes)
    }

    /// The records of one tranlog file, read on their own.
    static func recordCount(of path: FilePath, fileID: UInt64, in fileSystem: SimulatedFileSystem) throws -> Int {
        var cursor = TranlogCursor(
            directory: TranlogDirectory(description: path.string, files: [TranlogFileRef(fileID: FileID(fileID), path: path)]),
            fileSystem: fileSystem)
        var count = 0
        while try cursor.next() != nil { count += 1 }
        return count
    }

    @Test func aCleanRepositoryPassesWithExactCounts() async throws {
        let (fileSystem, lastCommit) = try await Self.repository()
        let report = try Audit.run(Self.directory, fileSystem: fileSystem)
        #expect(report.ok)
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(report.notes.isEmpty, "\(report.notes)")
        let files = try TranlogDirectory.scan(Self.directory.tranlogs, fileSystem: fileSystem).files.count
        #expect(files >= 3, "the fixture must span several tranlog files")
        // One block per run (each is far below 64 KiB); every record takes a seqno, so the records are
        // 65 commits, 3 checkpoint records, a shutdown record and a fileEnd closing each older file.
        var expected = AuditCounts()
        expected.extentRuns = 3
        expected.extentBlocks = 3
        expected.extentEntries = 30 + 25 + 10
        expected.tranlogFiles = files
        expected.tranlogRecords = 65 + 3 + 1 + (files - 1)
        expected.objects = 45
        #expect(report.counts == expected)
        #expect(report.checkpoint?.seqno == lastCommit.seqno && report.checkpoint?.eventID == lastCommit.eventID)
    }

    enum Damage: CaseIterable, Sendable {
        case flippedExtentBlockByte, deletedRun, leftoverRun, flippedMiddleTranlogByte, deletedMiddleTranlog, corruptManifest
        case checkpointOffTheEpochHistory, tornTail, corruptRestoreState
    }

    @Test(arguments: Damage.allCases)
    func damageIsReportedAndTheRestStillChecked(_ damage: Damage) async throws {
        let fileSystem = try await Self.repository().fileSystem
        let clean = try Audit.run(Self.directory, fileSystem: fileSystem)
        let check = try Self.apply(damage, to: fileSystem, clean: clean)
        let report = try Audit.run(Self.directory, fileSystem: fileSystem)
        #expect(report.ok == report.problems.isEmpty)
        for problem in report.problems { #expect(problem.remedy.contains("docs/OPERATIONS.md, 'Damaged disk or files'")) }
        check(report)
    }

    /// Damages the repository and returns what the report must then say.
    static func apply(
        _ damage: Damage, to fileSystem: SimulatedFileSystem, clean: AuditReport
    ) throws -> (AuditReport) -> Void {
        switch damage {
        case .flippedExtentBlockByte:
            // Run 1's only block starts right after the 64-byte header; byte 100 is inside its data.
            flipByte(at: 100, of: runPath(1), in: fileSystem)
            return { report in
                let problem = onlyProblem(report, .page, file: runPath(1))
                #expect(problem?.offset == 64)
                #expect(problem?.detail.contains("block 0") == true)
                #expect(report.counts.extentRuns == 3 && report.counts.extentEntries == 25 + 10, "the other runs are still read")
            }
        case .deletedRun:
            try fileSystem.removeFile(runPath(2))
            return { report in
                let problem = onlyProblem(report, .page, file: runPath(2))
                #expect(problem?.detail.contains("extent-000002.dbf") == true && problem?.detail.contains("missing") == true)
            }
        case .leftoverRun:
            fileSystem.overwrite(runPath(9), with: fileSystem.contents(of: runPath(1))!)
            return { report in
                #expect(report.ok, "\(report.problems)")
                #expect(report.notes.map(\.file) == [runPath(9).string])
            }
        case .flippedMiddleTranlogByte:
            let recordsInFile2 = try recordCount(of: tranlogPath(2), fileID: 2, in: fileSystem)
            // The first record of tranlog2 starts right after the 128-byte header.
            flipByte(at: FileHeader.size + 60, of: tranlogPath(2), in: fileSystem)
            return { report in
                let problem = onlyProblem(report, .page, file: tranlogPath(2))
                #expect(problem?.offset == UInt64(FileHeader.size))
                #expect(problem?.detail.contains("fileId 2") == true)
                #expect(report.counts.tranlogRecords == clean.counts.tranlogRecords - recordsInFile2, "the later files are still read")
            }
        case .deletedMiddleTranlog:
            try fileSystem.removeFile(tranlogPath(2))
            return { report in
                let problem = onlyProblem(report, .page, file: tranlogPath(2))
                #expect(problem?.detail.contains("tranlog2.dbf is missing") == true)
                #expect(problem?.remedy.contains("copy the missing tranlog back") == true)
            }
        case .corruptManifest:
            flipByte(at: 40, of: manifestPath, in: fileSystem)
            return { report in
                let problem = onlyProblem(report, .page, file: manifestPath)
                #expect(problem?.detail.contains("corrupt") == true)
                #expect(report.checkpoint == nil)
                #expect(report.counts.tranlogRecords == clean.counts.tranlogRecords, "the tranlogs are still read")
            }
        case .checkpointOffTheEpochHistory:
            // Epoch 1 now ends at seqno 2, long before the checkpoint MANIFEST records in epoch 1.
            let first = EpochEntry(epoch: .first, startSeqno: Seqno(1), parentEpoch: .none, time: .now(), sourceID: nodeSource)
            let second = EpochEntry(epoch: Epoch(2), startSeqno: Seqno(3), parentEpoch: .first, time: .now(), sourceID: nodeSource)
            try EpochHistoryStore.write(try EpochHistory(entries: [first, second]), to: directory.epochsFile, fileSystem: fileSystem)
            return { report in
                let problem = onlyProblem(report, .object, file: directory.epochsFile)
                #expect(problem?.detail.contains("not on the epoch history") == true)
            }
        case .tornTail:
            let newest = try TranlogDirectory.scan(directory.tranlogs, fileSystem: fileSystem).files.last!.path
            let size = fileSystem.contents(of: newest)!.count
            fileSystem.overwrite(newest, with: fileSystem.contents(of: newest)! + [0x40, 0, 0, 0, 1, 0])
            return { report in
                #expect(report.ok, "\(report.problems)")
                #expect(report.notes.map(\.file) == [newest.string])
                #expect(report.notes.first?.offset == UInt64(size))
                #expect(report.counts == clean.counts)
            }
        case .corruptRestoreState:
            fileSystem.overwrite(directory.restoreStateFile, with: bytes("{\"active\": tr"))
            return { report in _ = onlyProblem(report, .page, file: directory.restoreStateFile) }
        }
    }

    /// Expects exactly one problem, in `area` and naming `file`, and returns it.
    @discardableResult
    static func onlyProblem(
        _ report: AuditReport, _ area: AuditArea, file: FilePath, sourceLocation: SourceLocation = #_sourceLocation
    ) -> AuditProblem? {
        #expect(!report.ok, sourceLocation: sourceLocation)
        #expect(report.problems.count == 1, "\(report.problems)", sourceLocation: sourceLocation)
        let problem = report.problems.first
        #expect(problem?.area == area, sourceLocation: sourceLocation)
        #expect(problem?.file == file.string, sourceLocation: sourceLocation)
        return problem
    }

    @Test func withoutARepositoryTheAuditRefusesToStart() throws {
        let fileSystem = SimulatedFileSystem()
        #expect(throws: RepositoryError.self) { try Audit.run(Self.directory, fileSystem: fileSystem) }
    }
}
