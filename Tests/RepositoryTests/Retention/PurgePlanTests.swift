import Testing
import Tranlog
@testable import Repository

/// The purge plan's decisions, on a made-up directory of ten 1000-byte files.
@Suite struct PurgePlanTests {
    static let files = (1...10).map { RetainedFile(fileID: FileID(UInt64($0)), path: "/d/tranlogs/tranlog\($0).dbf", bytes: 1000) }

    static func standby(_ nodeID: String, needs fileID: UInt64) -> KnownStandby {
        KnownStandby(
            nodeID: nodeID, address: "127.0.0.1:1", flushedSeqno: Seqno(1), appliedSeqno: Seqno(1), neededFileID: FileID(fileID),
            lastSeen: Timestamp(microsecondsSinceEpoch: 0))
    }

    static func retention(recovery: UInt64? = 8, standbys: [KnownStandby] = [], restore: UInt64? = nil) -> TranlogRetention {
        TranlogRetention(files: files, recoveryNeeds: recovery.map { FileID($0) }, standbys: standbys, restoreNeeds: restore.map { FileID($0) })
    }

    @Test func everythingSafeStopsAtTheCheckpointsFile() {
        let plan = PurgePlan(Self.retention(), through: nil, force: false)
        #expect(plan.remove.map(\.fileID.rawValue) == Array(1...7))
        #expect(plan.bytes == 7000)
        #expect(plan.refused.isEmpty)
        #expect(plan.keptFrom?.reasons == [.recovery(FileID(8))])
    }

    @Test func throughAFileRecoveryNeedsIsRefusedEvenWithForce() {
        for force in [false, true] {
            let plan = PurgePlan(Self.retention(), through: FileID(9), force: force)
            #expect(plan.remove.isEmpty)
            #expect(plan.refusalReasons == [.recovery(FileID(8))])
            #expect(!plan.refusalReasons[0].overridable)
        }
    }

    @Test func aStandbysFilesAreRefusedNamingIt() {
        let plan = PurgePlan(Self.retention(standbys: [Self.standby("east", needs: 4)]), through: FileID(6), force: false)
        #expect(plan.remove.isEmpty)
        #expect(plan.refusalReasons == [.standby(nodeID: "east", needs: FileID(4))])
        #expect(plan.refusalReasons[0].description.contains("standby east needs tranlog4.dbf"))
    }

    @Test func forceOverridesAStandbyAndSaysSo() {
        let plan = PurgePlan(Self.retention(standbys: [Self.standby("east", needs: 4)]), through: FileID(6), force: true)
        #expect(plan.remove.map(\.fileID.rawValue) == Array(1...6))
        #expect(plan.forced.map(\.file.fileID.rawValue) == [4, 5, 6])
        #expect(plan.forced.first?.reasons == [.standby(nodeID: "east", needs: FileID(4))])
    }

    @Test func anUnfinishedRestoreKeepsTheFileOfItsAppliedPosition() {
        let refused = PurgePlan(Self.retention(restore: 3), through: FileID(5), force: false)
        #expect(refused.refusalReasons == [.restore(FileID(3))])
        let forced = PurgePlan(Self.retention(restore: 3), through: FileID(5), force: true)
        #expect(forced.remove.map(\.fileID.rawValue) == Array(1...5))
    }

    /// A standby (restore mode) does not replay its tranlogs when it opens: only the restore's need
    /// binds, so an operator can empty a stopped standby's tranlogs with --force (Tungsten's "reset
    /// its logs" before an external backup is put in place).
    @Test func aStandbysOwnLogsCanAllGoWithForce() {
        let retention = Self.retention(recovery: nil, restore: 8)
        #expect(PurgePlan(retention, through: FileID(10), force: false).refusalReasons == [.restore(FileID(8))])
        let forced = PurgePlan(retention, through: FileID(10), force: true)
        #expect(forced.remove.map(\.fileID.rawValue) == Array(1...10))
        #expect(forced.refused.isEmpty)
    }

    @Test func withoutThroughTheOldestNeedWins() {
        let retention = Self.retention(standbys: [Self.standby("east", needs: 5), Self.standby("west", needs: 3)], restore: 6)
        let plan = PurgePlan(retention, through: nil, force: false)
        #expect(plan.remove.map(\.fileID.rawValue) == [1, 2])
        #expect(plan.keptFrom?.reasons == [.standby(nodeID: "west", needs: FileID(3))])
    }

    @Test func aThroughBelowEveryNeedRemovesJustThat() {
        let plan = PurgePlan(Self.retention(standbys: [Self.standby("east", needs: 5)]), through: FileID(2), force: false)
        #expect(plan.remove.map(\.fileID.rawValue) == [1, 2])
        #expect(plan.refused.isEmpty)
    }

    @Test func runwayIsTheLimitLessWhatTheOldestStandbyHolds() {
        let retention = Self.retention(standbys: [Self.standby("east", needs: 7), Self.standby("west", needs: 9)])
        #expect(retention.bytesHeldForStandbys == 4000)
        #expect(retention.runwayBytes(maxRetainedBytes: 10_000) == 6000)
        #expect(retention.runwayBytes(maxRetainedBytes: 3000) == 0)
        #expect(Self.retention().bytesHeldForStandbys == 0)
    }
}

/// Partial logging: what a checkpoint removes.
@Suite struct PartialLoggingRemovalTests {
    @Test func keepsWhatAStandbyNeedsWithoutALimit() {
        let removal = PartialLoggingRemoval(PurgePlanTests.retention(standbys: [PurgePlanTests.standby("east", needs: 3)]), maxRetainedBytes: nil)
        #expect(removal.remove.map(\.fileID.rawValue) == [1, 2])
        #expect(removal.cutOff.isEmpty)
    }

    @Test func removesPastTheLimitAndNamesTheStandbyCutOff() {
        let retention = PurgePlanTests.retention(standbys: [PurgePlanTests.standby("east", needs: 3), PurgePlanTests.standby("west", needs: 7)])
        let removal = PartialLoggingRemoval(retention, maxRetainedBytes: 5000)
        // Files 6…10 are 5000 bytes: 1…5 go, east (needs 3) is cut off, west (needs 7) is not.
        #expect(removal.remove.map(\.fileID.rawValue) == Array(1...5))
        #expect(removal.cutOff.map(\.nodeID) == ["east"])
    }

    @Test func neverRemovesWhatRecoveryNeedsWhateverTheLimit() {
        let removal = PartialLoggingRemoval(PurgePlanTests.retention(recovery: 4, standbys: [PurgePlanTests.standby("east", needs: 2)]), maxRetainedBytes: 1000)
        #expect(removal.remove.map(\.fileID.rawValue) == [1, 2, 3])
        #expect(removal.cutOff.map(\.nodeID) == ["east"])
    }

    @Test func withoutStandbysRemovesEverythingBeforeTheCheckpoint() {
        let removal = PartialLoggingRemoval(PurgePlanTests.retention(), maxRetainedBytes: 2000)
        #expect(removal.remove.map(\.fileID.rawValue) == Array(1...7))
    }
}
