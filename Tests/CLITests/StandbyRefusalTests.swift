import Foundation
import Node
import Testing

@Suite("A primary refuses a standby of another repository, with real processes")
struct StandbyRefusalTests {
    @Test("a standby made from another repository is refused; its status names both repositories and it stays unchanged")
    func otherRepository() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: ["primary-key": "primary value"])
            defer { pair.cleanUp() }
            // The standby's directory now holds a different repository with the same key file.
            try FileManager.default.removeItem(at: pair.standbyData)
            try StandbyCommandTests.Pair.run(["init", "--data", pair.standbyData.path, "--source-id", "stranger"], in: directory)
            let standby = try pair.startStandby()
            defer { standby.cleanUp() }

            let refused = try StandbyCommandTests.waitForStatus(of: standby) { $0.replication?.lastRejection != nil }
            let rejection = try #require(refused.replication?.lastRejection)
            let primaryID = try StandbyCommandTests.client(pair.primary.url) { try $0.status().repository.repositoryID }
            #expect(rejection.contains("\(primaryID)"), "\(rejection)")
            #expect(rejection.contains("\(refused.repository.repositoryID)"), "\(rejection)")
            #expect(refused.repository.objectCount == 0)
            #expect(try StandbyCommandTests.client(standby.url) { try $0.get(key: Array("primary-key".utf8)) } == nil)
        }
    }
}
