import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

/// Concurrent committers, then a simulated power loss at a random moment: every record that was
/// acknowledged must be on the disk that survives, whole and in order, and the writer must reopen
/// (cutting off at most a torn tail of unacknowledged bytes) and go on.
///
/// CI runs a few seeds; `UNDERSTUDY_SOAK=1` runs many. A failure prints its seed: replay it with
/// `UNDERSTUDY_SEED=<seed>`.
@Suite struct CrashTests {
    static let seeds = testSeeds(ci: 6, soak: 200)

    /// With and without preallocated segments (commits then overwrite zeros, and a crash can leave
    /// a prepared file or a zero tail behind).
    @Test(arguments: seeds, [false, true])
    func everyAcknowledgedRecordSurvivesACrash(seed: UInt64, preallocating: Bool) throws {
        print("CrashTests seed \(seed) (replay with UNDERSTUDY_SEED=\(seed)), preallocating: \(preallocating)")
        var random = SeededRandom(seed: seed)
        let fileSystem = emptyLogFileSystem()
        var configuration = writerConfiguration(rotationBytes: 1024 + Int(random.next() % 4096))
        configuration.preallocatesSegments = preallocating
        let writer = try TranlogWriter(configuration: configuration, fileSystem: fileSystem, startIfEmpty: .newRepository)
        let acknowledged = AcknowledgedRecords()
        let crashAfter = 20 + Int(random.next() % 300)

        let committers = (0..<8).map { committer in
            Thread {
                for index in 0..<100 {
                    let body = putCommit(committer * 1000 + index, valueBytes: (committer * 37 + index) % 200)
                    guard let record = try? writer.appendAndWait(body) else { return }
                    acknowledged.add(record.seqno, body)
                }
            }
        }
        committers.forEach { $0.start() }
        acknowledged.waitForCount(crashAfter)
        // Acknowledgements seen before the crash were synced before it: take them first.
        let mustSurvive = acknowledged.snapshot()
        let survivor = fileSystem.crashed(seed: random.next())
        try? writer.close()

        let reopened = try TranlogWriter(configuration: configuration, fileSystem: survivor)
        let afterCrash = try reopened.appendAndWait(putCommit(99_999))
        try reopened.close()

        let records = try readLog(survivor)
        #expect(records.tornTail == nil, "the reopened writer cut the torn tail off")
        let bySeqno = Dictionary(uniqueKeysWithValues: records.records.map { ($0.seqno, $0.body) })
        for (seqno, body) in mustSurvive {
            #expect(bySeqno[seqno] == body, "acknowledged seqno \(seqno) lost or changed (seed \(seed))")
        }
        #expect(records.records.last?.seqno == afterCrash.seqno)
    }
}

final class AcknowledgedRecords: @unchecked Sendable {
    private let condition = NSCondition()
    private var records: [Seqno: RecordBody] = [:]

    func add(_ seqno: Seqno, _ body: RecordBody) {
        condition.withLock {
            records[seqno] = body
            condition.broadcast()
        }
    }

    func waitForCount(_ count: Int) {
        condition.withLock {
            let deadline = Date().addingTimeInterval(60)
            while records.count < count && condition.wait(until: deadline) {}
        }
    }

    func snapshot() -> [Seqno: RecordBody] { condition.withLock { records } }
}
