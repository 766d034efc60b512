import Repository
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

@testable import Node

/// Offline changes are durable before they show, except a fault's: it shows (and blocks `online`)
/// even when the full disk it came from cannot record it.
@Suite struct StandbyControlStoreTests {
    private static let root = FilePath("/data")

    private static func offline(_ fault: StandbyFault?) -> StandbyControlState {
        StandbyControlState(
            offline: StandbyOffline(
                reason: fault == nil ? .requested : .fault, detail: "test", since: Timestamp(rawValue: 1), appliedSeqno: Seqno(7), fault: fault))
    }

    @Test func onAFullDiskAFaultIsHeldInMemoryAndARequestIsNot() throws {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectory(Self.root)
        let store = try StandbyControlStore(directory: DataDirectory(Self.root), fileSystem: fileSystem)
        fileSystem.limitFreeSpace(to: 0)

        #expect(throws: RepositoryError.self) { try store.update { $0 = Self.offline(nil) } }
        #expect(store.state.offline == nil, "a request shows only once it is durable")

        let fault = StandbyFault(kind: .mirrorWrite, message: "No space left on device")
        #expect(throws: RepositoryError.self) { try store.updateEvenIfNotDurable { $0 = Self.offline(fault) } }
        #expect(store.state.offline?.fault == fault)
        #expect(!fileSystem.fileExists(StandbyControlStore.path(in: DataDirectory(Self.root))))

        fileSystem.limitFreeSpace(to: 1 << 30)
        try store.updateEvenIfNotDurable { $0.offline?.detail = "recorded" }
        let reopened = try StandbyControlStore(directory: DataDirectory(Self.root), fileSystem: fileSystem)
        #expect(reopened.state.offline?.detail == "recorded")
    }
}
