import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

/// `TranlogArchiver` on the simulated file system: only completed files are archived, each copy is
/// complete under its final name or absent (crash, failed sync, full disk), and a retry succeeds.
@Suite struct ArchiverTests {
    static let archiveDirectory = FilePath("/archive")

    /// Files 1...4 (4 is the newest, the writer's), and an empty archive directory.
    static func source() throws -> SimulatedFileSystem {
        let fileSystem = emptyLogFileSystem()
        try writeLog(fileSystem, commits: 60)
        try fileSystem.createDirectory(archiveDirectory)
        return fileSystem
    }

    static func archiver(_ fileSystem: SimulatedFileSystem) -> TranlogArchiver {
        TranlogArchiver(source: logDirectory, destination: .directory(archiveDirectory), fileSystem: fileSystem)
    }

    static func archived(_ fileSystem: SimulatedFileSystem, _ fileID: UInt64) -> FilePath {
        archiveDirectory.appending(TranlogArchiver.archivedName(FileID(fileID)))
    }

    @Test func archivesEveryCompletedFileAsGzipOfItsExactBytes() throws {
        let fileSystem = try Self.source()
        let archiver = Self.archiver(fileSystem)
        let survey = try archiver.survey(openFileID: FileID(4))
        #expect(survey.backlog.map(\.fileID.rawValue) == [1, 2, 3])
        #expect(survey.firstUnarchived == FileID(1))
        for ref in survey.backlog { try archiver.archive(ref) }
        for fileID in UInt64(1)...3 {
            let compressed = try #require(fileSystem.contents(of: Self.archived(fileSystem, fileID)))
            #expect(try Gzip.decompress(compressed).get() == fileSystem.contents(of: path(fileID)), "tranlog\(fileID)")
        }
        #expect(!fileSystem.fileExists(Self.archived(fileSystem, 4)), "the open file is never archived")
        let after = try archiver.survey(openFileID: FileID(4))
        #expect(after.backlog.isEmpty)
        #expect(after.newestArchived == FileID(3))
        #expect(after.firstUnarchived == FileID(4))
        let fromArchive = try readLog(fileSystem, directory: Self.archiveDirectory)
        #expect(fromArchive.records.last?.header.kind == .fileEnd)
        #expect(fromArchive.records.map(\.seqno) == (try readLog(fileSystem)).records.filter { $0.eventID.fileID.rawValue <= 3 }.map(\.seqno))
    }

    @Test func aFileWithoutSuccessorOnDiskIsNotArchivedEvenBelowTheOpenFile() throws {
        let fileSystem = try Self.source()
        // The writer has moved to file 5 but not created it yet (a rotation in flight): 4 may still grow.
        let survey = try Self.archiver(fileSystem).survey(openFileID: FileID(5))
        #expect(survey.backlog.map(\.fileID.rawValue) == [1, 2, 3])
        #expect(survey.firstUnarchived == FileID(1))
    }

    @Test func aNamePresentInTheArchivePlainOrCompressedIsNeverRewritten() throws {
        let fileSystem = try Self.source()
        try fileSystem.writeNewFile(Self.archiveDirectory.appending(FileID(1).fileName), contents: [1, 2, 3][...])
        try fileSystem.writeNewFile(Self.archived(fileSystem, 2), contents: [4, 5][...])
        let survey = try Self.archiver(fileSystem).survey(openFileID: FileID(4))
        #expect(survey.backlog.map(\.fileID.rawValue) == [3])
        #expect(survey.newestArchived == FileID(2))
        #expect(fileSystem.contents(of: Self.archived(fileSystem, 2)) == [4, 5])
    }

    @Test func aCrashBeforeTheRenameLeavesNoFileUnderTheFinalName() throws {
        for seed in testSeeds(ci: 8, soak: 200) {
            let fileSystem = try Self.source()
            let archiver = Self.archiver(fileSystem)
            let ref = try #require(try archiver.survey(openFileID: FileID(4)).backlog.first)
            fileSystem.pauseSyncs()
            // Its outcome after the crash does not matter: the survivor's files are what is checked.
            let archiving = BackgroundWork { () throws(TranlogError) in try archiver.archive(ref) }
            try #require(fileSystem.waitForPausedSyncs(1), "no sync reached the paused gate")
            let survivor = fileSystem.crashed(seed: seed)
            fileSystem.resumeSyncs()
            #expect(archiving.finished(within: 30))

            #expect(!survivor.fileExists(Self.archived(survivor, 1)), "seed \(seed)")
            let restarted = Self.archiver(survivor)
            try restarted.removeLeftovers()
            #expect(try survivor.contentsOfDirectory(Self.archiveDirectory).isEmpty, "seed \(seed)")
            let backlog = try restarted.survey(openFileID: FileID(4)).backlog
            #expect(backlog.map(\.fileID.rawValue) == [1, 2, 3], "seed \(seed)")
            try restarted.archive(backlog[0])
            #expect(try Gzip.decompress(#require(survivor.contents(of: Self.archived(survivor, 1)))).get() == survivor.contents(of: path(1)))
        }
    }

    @Test func aFullDiskFailsNamingTheFileLeavesNothingAndTheRetrySucceeds() throws {
        let fileSystem = try Self.source()
        let archiver = Self.archiver(fileSystem)
        let ref = try #require(try archiver.survey(openFileID: FileID(4)).backlog.first)
        fileSystem.limitFreeSpace(to: 16)
        do {
            try archiver.archive(ref)
            Issue.record("archiving onto a full disk succeeded")
        } catch {
            #expect(error.description.contains(TranlogArchiver.temporaryName(FileID(1))), "\(error)")
            #expect(error.description.contains("No space left") || error.description.contains("ENOSPC") || error.description.contains("28"), "\(error)")
        }
        #expect(try fileSystem.contentsOfDirectory(Self.archiveDirectory).isEmpty)
        #expect(try archiver.survey(openFileID: FileID(4)).backlog.first == ref, "still in the backlog")

        fileSystem.limitFreeSpace(to: Int.max)
        try archiver.archive(ref)
        #expect(try Gzip.decompress(#require(fileSystem.contents(of: Self.archived(fileSystem, 1)))).get() == fileSystem.contents(of: path(1)))
    }

    @Test func aFailedSyncLeavesNoFileUnderTheFinalName() throws {
        let fileSystem = try Self.source()
        let archiver = Self.archiver(fileSystem)
        let ref = try #require(try archiver.survey(openFileID: FileID(4)).backlog.first)
        fileSystem.failSyncs(afterSuccessful: 0)
        #expect(throws: TranlogError.self) { try archiver.archive(ref) }
        #expect(!fileSystem.fileExists(Self.archived(fileSystem, 1)))
    }
}
