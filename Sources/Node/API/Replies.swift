import Repository
import Tranlog

/// The answer to every accepted write (`PUT`/`DELETE /objects/{key}`, `POST /commit`):
/// `{"seqno": 12, "epoch": 1, "eventId": "tranlog3.dbf:4096"}`.
public struct CommitReply: Codable, Hashable, Sendable {
    public var seqno: Seqno
    public var epoch: Epoch
    public var eventID: EventID

    private enum CodingKeys: String, CodingKey {
        case seqno, epoch
        case eventID = "eventId"
    }

    public init(_ outcome: CommitOutcome) {
        seqno = outcome.seqno
        epoch = outcome.epoch
        eventID = outcome.eventID
    }

    /// The reply as the API sends it, the bytes `JSONEncoder` with sorted keys would make, written
    /// directly: every commit is answered with one, and an encoder per reply was a measurable part of
    /// a commit. An event id (`tranlogN.dbf:OFFSET`) holds nothing JSON must escape.
    public var json: [UInt8] {
        Array("{\"epoch\":\(epoch.rawValue),\"eventId\":\"\(eventID)\",\"seqno\":\(seqno.rawValue)}".utf8)
    }
}

/// `GET /objects?prefix=&after=&limit=`: `{"keys": [...], "next": ...}`, keys in byte order. `next` is
/// the last key returned when more match (pass it as `after` to continue), absent at the end.
public struct KeyList: Codable, Hashable, Sendable {
    public var keys: [WireKey]
    public var next: WireKey?

    public init(keys: [WireKey], next: WireKey?) {
        self.keys = keys
        self.next = next
    }
}

/// `GET /objects/{key}` as the client returns it: the value and the seqno of the commit that wrote it.
public struct FetchedObject: Hashable, Sendable {
    public var value: [UInt8]
    public var seqno: Seqno

    public init(value: [UInt8], seqno: Seqno) {
        self.value = value
        self.seqno = seqno
    }
}

/// `POST /admin/checkpoint`: whether a checkpoint was taken (none is when nothing changed since the
/// last one) and the manifest generation and position now current.
public struct CheckpointReply: Codable, Hashable, Sendable {
    public var taken: Bool
    public var manifestGeneration: UInt64
    public var position: AppliedPosition
}
