import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting
@testable import Repository

/// `standbys.json`: written atomically and durably, throttled, and what a restarted primary reads.
@Suite struct KnownStandbysTests {
    final class FakeClock: @unchecked Sendable {
        private let lock = NSLock()
        private var instant = ContinuousClock.now
        var now: ContinuousClock.Instant { lock.withLock { instant } }
        func advance(_ duration: Duration) { lock.withLock { instant += duration } }
    }

    static func standby(_ nodeID: String, needs fileID: UInt64, applied: UInt64) -> KnownStandby {
        KnownStandby(
            nodeID: nodeID, address: "10.0.0.2:4000", flushedSeqno: Seqno(applied), appliedSeqno: Seqno(applied),
            neededFileID: FileID(fileID), lastSeen: Timestamp(microsecondsSinceEpoch: 1_000_000))
    }

    @Test func survivesARestartAndAPowerLoss() throws {
        let fileSystem = try initializedFileSystem()
        let directory = DataDirectory(nodeRoot)
        let store = try KnownStandbys(directory: directory, fileSystem: fileSystem)
        try store.record(Self.standby("east", needs: 3, applied: 10))
        let reread = try KnownStandbys(directory: directory, fileSystem: fileSystem.crashed(seed: testSeed()))
        #expect(reread.all == [Self.standby("east", needs: 3, applied: 10)])
    }

    @Test func positionsAreThrottledButANewNeededFileIsWrittenAtOnce() throws {
        let fileSystem = try initializedFileSystem()
        let clock = FakeClock()
        let directory = DataDirectory(nodeRoot)
        let store = try KnownStandbys(directory: directory, fileSystem: fileSystem, now: { clock.now })
        #expect(try store.record(Self.standby("east", needs: 3, applied: 10)))
        #expect(try !store.record(Self.standby("east", needs: 3, applied: 11)))
        #expect(try KnownStandbys(directory: directory, fileSystem: fileSystem).all.first?.appliedSeqno == Seqno(10))
        #expect(try store.record(Self.standby("east", needs: 4, applied: 12)))
        #expect(try !store.record(Self.standby("east", needs: 4, applied: 13)))
        try store.flush()
        #expect(try KnownStandbys(directory: directory, fileSystem: fileSystem).all.first?.appliedSeqno == Seqno(13))
        #expect(try !store.record(Self.standby("east", needs: 4, applied: 14)))
        clock.advance(.seconds(1))
        #expect(try store.record(Self.standby("east", needs: 4, applied: 15)))
    }

    @Test func aCrashMidWriteLeavesTheOldOrTheNewList() throws {
        let fileSystem = try initializedFileSystem()
        let directory = DataDirectory(nodeRoot)
        let store = try KnownStandbys(directory: directory, fileSystem: fileSystem)
        try store.record(Self.standby("east", needs: 3, applied: 10))
        fileSystem.failSyncs(afterSuccessful: 0)
        #expect(throws: RepositoryError.self) { try store.record(Self.standby("east", needs: 5, applied: 20)) }
        let found = try KnownStandbys(directory: directory, fileSystem: fileSystem.crashed(seed: testSeed())).all
        #expect(found == [Self.standby("east", needs: 3, applied: 10)] || found == [Self.standby("east", needs: 5, applied: 20)])
    }

    @Test func forgettingRemovesItForGood() throws {
        let fileSystem = try initializedFileSystem()
        let directory = DataDirectory(nodeRoot)
        let store = try KnownStandbys(directory: directory, fileSystem: fileSystem)
        try store.record(Self.standby("east", needs: 3, applied: 10))
        try store.record(Self.standby("west", needs: 4, applied: 10))
        #expect(try store.forget("east")?.nodeID == "east")
        #expect(try store.forget("east") == nil)
        #expect(try KnownStandbys(directory: directory, fileSystem: fileSystem).all.map(\.nodeID) == ["west"])
    }

    @Test func aCorruptFileIsRefusedNamingIt() throws {
        let fileSystem = try initializedFileSystem()
        let directory = DataDirectory(nodeRoot)
        try fileSystem.replaceFile(directory.standbysFile, contents: Array("{ nope".utf8)[...])
        let error = #expect(throws: RepositoryError.self) { try KnownStandbys(directory: directory, fileSystem: fileSystem) }
        #expect(error?.description.contains("standbys.json is corrupt") == true)
    }
}

extension KnownStandbysTests {
    /// A primary's loop reads the list for its status: it must not wait while the file is written
    /// (temporary file, fsync, rename, directory fsync), which held the same lock.
    @Test func theListIsReadWhileTheFileIsWritten() throws {
        let fileSystem = try initializedFileSystem()
        let store = try KnownStandbys(directory: DataDirectory(nodeRoot), fileSystem: fileSystem)
        fileSystem.pauseSyncs(only: { $0.contains("standbys.json") })
        let recorded = BackgroundWork { () throws(RepositoryError) in try store.record(Self.standby("east", needs: 3, applied: 10)) }
        try #require(fileSystem.waitForPausedSyncs(1), "no sync reached the paused gate")
        let listed = BackgroundWork { () throws(Never) in store.all }
        let readDuringTheWrite = listed.finished(within: 30)
        fileSystem.resumeSyncs()
        #expect(recorded.finished(within: 30) && listed.finished(within: 30))
        #expect(try recorded.result?.get() == true)
        #expect(readDuringTheWrite, "reading the list waited for the file's sync")
        #expect(listed.result?.get() == [Self.standby("east", needs: 3, applied: 10)])
        #expect(try KnownStandbys(directory: DataDirectory(nodeRoot), fileSystem: fileSystem).all == [Self.standby("east", needs: 3, applied: 10)])
    }

    @Test func aFailedWriteIsRetriedByTheNextFlush() throws {
        let fileSystem = try initializedFileSystem()
        let store = try KnownStandbys(directory: DataDirectory(nodeRoot), fileSystem: fileSystem)
        fileSystem.failSyncs(afterSuccessful: 0)
        #expect(throws: RepositoryError.self) { try store.record(Self.standby("east", needs: 3, applied: 10)) }
        fileSystem.failSyncs(afterSuccessful: Int.max)
        try store.flush()
        #expect(try KnownStandbys(directory: DataDirectory(nodeRoot), fileSystem: fileSystem).all == [Self.standby("east", needs: 3, applied: 10)])
    }
}
