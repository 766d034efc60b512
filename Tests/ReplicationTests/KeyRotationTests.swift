import Repository
import Testing
import Tranlog

@testable import Replication

/// During a key rotation a primary holds two keys: a standby signing with either streams (the
/// welcome's proof is under the standby's own key, or the standby would refuse it); a third key is
/// refused.
@Suite struct KeyRotationTests {
    static let oldKey = sharedKey
    static let newKey = ReplicationKey(bytes: Array("the-new-replication-key-after-rotation".utf8))
    static let otherKey = ReplicationKey(bytes: Array("a-key-neither-node-was-given".utf8))

    /// A standby holding only `standbyKey` against a primary holding `primaryKey`: where it ends up.
    private func follow(primaryKey: ReplicationKey, standbyKey: ReplicationKey) throws -> (LogReceiver, ReplicationHarness) {
        let harness = try ReplicationHarness()
        try harness.primary.commit(5)
        try harness.listen(key: primaryKey)
        let receiver = try harness.makeReceiver(key: standbyKey)
        receiver.start()
        harness.loop.run()
        return (receiver, harness)
    }

    @Test func aPrimaryWithBothKeysServesAStandbyOfEither() throws {
        let rotating = Self.oldKey.accepting([Self.newKey])
        for standbyKey in [Self.oldKey, Self.newKey] {
            let (receiver, harness) = try follow(primaryKey: rotating, standbyKey: standbyKey)
            #expect(receiver.state == .streaming, "\(String(describing: receiver.lastRejection))")
            #expect(receiver.flushedSeqno == harness.primary.lastSeqno)
        }
    }

    @Test func aKeyOfNeitherIsRefused() throws {
        let (receiver, _) = try follow(primaryKey: Self.oldKey.accepting([Self.newKey]), standbyKey: Self.otherKey)
        #expect(receiver.lastRejection == .wrongKey)
    }

    @Test func oncePrimaryDroppedTheOldKeyAStandbyStillOnItIsRefused() throws {
        let (receiver, _) = try follow(primaryKey: Self.newKey, standbyKey: Self.oldKey)
        #expect(receiver.lastRejection == .wrongKey)
    }

    @Test func aStandbyWithTwoKeysSignsWithItsFirst() throws {
        // The standby moved to the new key first, keeping the old as its second: a primary still on
        // the old key only refuses it (the first key signs), one on the new key serves it.
        let standbyKey = Self.newKey.accepting([Self.oldKey])
        #expect(try follow(primaryKey: Self.oldKey, standbyKey: standbyKey).0.lastRejection == .wrongKey)
        #expect(try follow(primaryKey: Self.newKey, standbyKey: standbyKey).0.state == .streaming)
    }

    @Test func theMatchingKeyIsTheOneTheHelloWasSignedWith() {
        let hello = Hello(
            repositoryID: testRepository, sourceID: SourceID("standby")!, position: LogPosition(epoch: .first, seqno: .zero), recordCRC: 0,
            mirrorEnd: nil, history: firstEpochHistory, challenge: Array(repeating: 1, count: 32), proof: [])
        let challenge = HelloProof.makeChallenge()
        let signed = HelloProof.sign(hello, challenge: challenge, key: Self.newKey)
        let matched = HelloProof.matchingKey(signed, challenge: challenge, key: Self.oldKey.accepting([Self.newKey]))
        let resigned = matched.map { HelloProof.sign(hello, challenge: challenge, key: $0) }
        #expect(resigned?.proof == signed.proof, "answered under the new key, not the primary's first")
        #expect(HelloProof.matchingKey(signed, challenge: challenge, key: Self.oldKey) == nil)
    }
}
