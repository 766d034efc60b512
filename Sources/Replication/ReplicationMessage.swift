import Repository
import Tranlog

/// The type byte of every message; the raw values are the wire values and are frozen.
public enum MessageType: UInt8, Sendable {
    case challenge = 1
    case hello = 2
    case welcome = 3
    case reject = 4
    case fileStart = 5
    case records = 6
    case heartbeat = 7
    case ack = 8
    case baseCopyRequest = 9
    case baseCopyStart = 10
    case baseCopyData = 11
    case baseCopyEnd = 12
}

/// Everything the shipper and the receiver say to each other (the layouts are in `MessageCodec`).
public enum ReplicationMessage: Hashable, Sendable {
    /// primary → standby, first: random bytes the standby's `hello` must sign.
    case challenge([UInt8])
    /// standby → primary: who it is, where its log ends, and the proof that it holds the key.
    case hello(Hello)
    /// standby → primary: a `hello` of another protocol version, of which only the version is read.
    case foreignHello(protocolVersion: UInt16)
    case welcome(Welcome)
    case reject(RejectReason)
    /// primary → standby: the 128 header bytes of the tranlog file the following records belong to.
    case fileStart(header: [UInt8])
    case records(RecordBatch)
    case heartbeat(Heartbeat)
    case ack(Ack)
    /// standby → primary, instead of a `hello`: an empty standby asks for a base copy (see `BaseCopyRequest`).
    case baseCopyRequest(BaseCopyRequest)
    /// standby → primary: a `baseCopyRequest` of another base-copy version, of which only the version is read.
    case foreignBaseCopyRequest(version: UInt16)
    case baseCopyStart(BaseCopyStart)
    case baseCopyData(BaseCopyChunk)
    case baseCopyEnd(BaseCopyEnd)

    public var type: MessageType {
        switch self {
        case .challenge: .challenge
        case .hello, .foreignHello: .hello
        case .welcome: .welcome
        case .reject: .reject
        case .fileStart: .fileStart
        case .records: .records
        case .heartbeat: .heartbeat
        case .ack: .ack
        case .baseCopyRequest, .foreignBaseCopyRequest: .baseCopyRequest
        case .baseCopyStart: .baseCopyStart
        case .baseCopyData: .baseCopyData
        case .baseCopyEnd: .baseCopyEnd
        }
    }
}

/// A standby introducing itself. `position` is the last record its tranlog mirror holds (or, with an
/// empty mirror, the position it was restored to), `recordCRC` that record's CRC, so the primary can
/// check the standby's last record is its own before streaming what follows.
public struct Hello: Hashable, Sendable {
    public var repositoryID: RepositoryID
    public var sourceID: SourceID
    public var position: LogPosition
    public var recordCRC: UInt32
    /// Where the mirror's newest file ends (its id and size): the primary resumes inside that file
    /// at that offset; nil for an empty mirror, which is sent whole files.
    public var mirrorEnd: EventID?
    public var history: EpochHistory
    /// The standby's own random challenge: the primary's welcome must prove it holds the key by
    /// signing it (protocol version 3).
    public var challenge: [UInt8]
    /// HMAC-SHA256 of the primary's challenge followed by the hello's other fields (see `HelloProof`).
    public var proof: [UInt8]

    public init(
        repositoryID: RepositoryID, sourceID: SourceID, position: LogPosition, recordCRC: UInt32, mirrorEnd: EventID?,
        history: EpochHistory, challenge: [UInt8] = HelloProof.makeChallenge(), proof: [UInt8] = []
    ) {
        self.repositoryID = repositoryID
        self.sourceID = sourceID
        self.position = position
        self.recordCRC = recordCRC
        self.mirrorEnd = mirrorEnd
        self.history = history
        self.challenge = challenge
        self.proof = proof
    }
}

/// The primary accepts a standby, proving it holds the key: records follow.
public struct Welcome: Hashable, Sendable {
    public var repositoryID: RepositoryID
    /// The primary's last durable record.
    public var position: LogPosition
    public var history: EpochHistory
    /// The standby's synchronous standing as the conversation begins (protocol version 3).
    public var standing: SynchronousStanding
    /// HMAC-SHA256 of the hello's challenge followed by the welcome's other fields: the primary
    /// holds the key too (see `WelcomeProof`; protocol version 3).
    public var proof: [UInt8]

    public init(
        repositoryID: RepositoryID, position: LogPosition, history: EpochHistory, standing: SynchronousStanding = .notRequired,
        proof: [UInt8] = []
    ) {
        self.repositoryID = repositoryID
        self.position = position
        self.history = history
        self.standing = standing
        self.proof = proof
    }
}

/// Whole record frames, byte-identical to the primary's file from `firstEventID` on.
public struct RecordBatch: Hashable, Sendable {
    public var firstEventID: EventID
    /// The concatenated frames (never compressed here: compression is the codec's business).
    public var frames: [UInt8]

    public init(firstEventID: EventID, frames: [UInt8]) {
        self.firstEventID = firstEventID
        self.frames = frames
    }
}

/// The primary's pulse, every heartbeat interval even when idle: how far its log reaches and what
/// its clock says, the two things lag is measured against, and the content digest at its visible
/// position, which a standby standing at that seqno compares with its own; and the standby's
/// synchronous standing (protocol version 3).
public struct Heartbeat: Hashable, Sendable {
    public var lastSeqno: Seqno
    public var primaryTime: Timestamp
    public var digest: PositionedDigest
    public var standing: SynchronousStanding

    public init(lastSeqno: Seqno, primaryTime: Timestamp, digest: PositionedDigest, standing: SynchronousStanding = .notRequired) {
        self.lastSeqno = lastSeqno
        self.primaryTime = primaryTime
        self.digest = digest
        self.standing = standing
    }
}

/// How far a standby got: received (validated, written), flushed (synced), applied (restored); and
/// the newest synchronous standing notice it heard (protocol version 3).
public struct Ack: Hashable, Sendable {
    public var received: Seqno
    public var flushed: Seqno
    public var applied: Seqno
    public var notice: UInt32

    public init(received: Seqno, flushed: Seqno, applied: Seqno, notice: UInt32 = 0) {
        self.received = received
        self.flushed = flushed
        self.applied = applied
        self.notice = notice
    }
}
