import Tranlog

/// A list of puts and deletes applied atomically, with optional preconditions checked against the
/// latest committed state first. A failed precondition is a conflict and nothing is applied.
public struct Transaction: Hashable, Sendable {
    public var operations: [Operation]
    public var preconditions: [Precondition]

    public init(operations: [Operation], preconditions: [Precondition] = []) {
        self.operations = operations
        self.preconditions = preconditions
    }
}

/// What a transaction requires of a key before it applies.
public struct Precondition: Hashable, Sendable {
    public enum Expectation: Hashable, Sendable {
        /// The key has no value.
        case absent
        /// The key's value was last written by the commit with this seqno.
        case writtenAt(Seqno)
    }

    public var key: [UInt8]
    public var expectation: Expectation

    public init(key: [UInt8], expectation: Expectation) {
        self.key = key
        self.expectation = expectation
    }
}

/// A durable commit.
public struct CommitOutcome: Hashable, Sendable {
    public var seqno: Seqno
    public var epoch: Epoch
    public var eventID: EventID

    public init(seqno: Seqno, epoch: Epoch, eventID: EventID) {
        self.seqno = seqno
        self.epoch = epoch
        self.eventID = eventID
    }
}
