import Testing
import Tranlog
import Transport

@testable import Replication

/// What a misbehaving primary can send; each must close the connection and leave the mirror as it
/// was before the offending message.
enum WireCorruption: CaseIterable, CustomTestStringConvertible {
    case frameCRC, brokenChain, seqnoGap, truncatedFrame, messageCRC, oversizedLength, recordsBeforeFileStart

    var testDescription: String { "\(self)" }
}

@Suite struct RefusalTests {
    /// A primary played by the test, a receiver that got the first five records of tranlog1.dbf from
    /// it, and the frames that follow.
    private struct Scene {
        let harness: ReplicationHarness
        let receiver: LogReceiver
        let primary: ScriptedPeer
        let header: [UInt8]
        let frames: [[UInt8]]
        let nextOffset: UInt64
    }

    private func scene() throws -> Scene {
        let harness = try ReplicationHarness()
        try harness.primary.commit(20)
        let file = harness.primary.files["tranlog1.dbf"]!
        let frames = splitFrames(file[FileHeader.size...])
        let (receiver, primary) = try harness.receiverWithScriptedPrimary()
        let challenge = HelloProof.makeChallenge()
        primary.send(.challenge(challenge))
        harness.loop.run()
        guard case .hello(let hello)? = primary.messages.first else { throw ScriptError("no hello") }
        #expect(HelloProof.verify(hello, challenge: challenge, key: sharedKey))
        primary.send(.welcome(Welcome(repositoryID: testRepository, position: LogPosition(epoch: .first, seqno: Seqno(20)), history: firstEpochHistory)))
        primary.send(.fileStart(header: Array(file[..<FileHeader.size])))
        primary.send(.records(RecordBatch(firstEventID: EventID(fileID: .first, offset: 128), frames: frames[0..<5].flatMap { $0 })))
        harness.loop.run()
        #expect(receiver.flushedSeqno == Seqno(5))
        let nextOffset = UInt64(FileHeader.size + frames[0..<5].reduce(0) { $0 + $1.count })
        return Scene(harness: harness, receiver: receiver, primary: primary, header: Array(file[..<FileHeader.size]), frames: frames, nextOffset: nextOffset)
    }

    private func bytes(for corruption: WireCorruption, in scene: Scene) -> [UInt8] {
        let next = EventID(fileID: .first, offset: scene.nextOffset)
        func records(_ frames: [UInt8], at eventID: EventID = next) -> [UInt8] {
            MessageCodec.encode(.records(RecordBatch(firstEventID: eventID, frames: frames)))
        }
        // Every case but the last two puts a good frame first: the whole message must be refused.
        let good = scene.frames[5]
        switch corruption {
        case .frameCRC:
            var bad = scene.frames[6]
            bad[bad.count - 10] ^= 0x40
            return records(good + bad)
        case .brokenChain:
            guard case .record(let record) = RecordFrame.decode(scene.frames[6][...]) else { fatalError() }
            var header = record.header
            header.previousCRC ^= 1
            return records(good + RecordFrame.encode(header, record.body).bytes)
        case .seqnoGap:
            return records(good + scene.frames[7])
        case .truncatedFrame:
            return records(good + scene.frames[6].dropLast(3))
        case .messageCRC:
            var message = records(good)
            message[message.count / 2] ^= 0x01
            return message
        case .oversizedLength:
            return [0xff, 0xff, 0xff, 0x7f] + records(good).dropFirst(4)
        case .recordsBeforeFileStart:
            return records(good, at: EventID(fileID: FileID(2), offset: 128))
        }
    }

    @Test(arguments: WireCorruption.allCases)
    func refusedAndTheMirrorIsUnchanged(_ corruption: WireCorruption) throws {
        let scene = try scene()
        let before = scene.harness.standbyFiles
        scene.primary.sendBytes(bytes(for: corruption, in: scene))
        scene.harness.loop.run()
        expectIdentical(scene.harness.standbyFiles, before)
        #expect(scene.primary.closeReason == .peerClosed)
        #expect(scene.receiver.state == .waitingToReconnect)
        #expect(scene.receiver.receivedSeqno == Seqno(5))
    }

    @Test func aFileThatDoesNotChainIsRefused() throws {
        let scene = try scene()
        let before = scene.harness.standbyFiles
        let stranger = FileHeader(
            repositoryID: testRepository, fileID: FileID(2), epoch: .first, creationTime: startOfTime,
            previousLastSeqno: Seqno(5), previousLastRecordCRC: 0)
        scene.primary.send(.fileStart(header: stranger.encode()))
        scene.harness.loop.run()
        expectIdentical(scene.harness.standbyFiles, before)
        #expect(scene.primary.closeReason == .peerClosed)
    }
}

func splitFrames(_ bytes: ArraySlice<UInt8>) -> [[UInt8]] {
    var frames: [[UInt8]] = []
    var rest = bytes
    while case .record(let record) = RecordFrame.decode(rest) {
        frames.append(Array(record.frame))
        rest = rest.dropFirst(record.frame.count)
    }
    return frames
}

struct ScriptError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
