/// The decoded payload of a record, one case per `RecordKind`.
public enum RecordBody: Hashable, Sendable {
    case commit([Operation])
    case checkpoint(CheckpointInfo)
    case epochBegin(EpochBeginInfo)
    case backupStart(label: String)
    case backupEnd(label: String)
    case shutdown
    case fileEnd

    public var kind: RecordKind {
        switch self {
        case .commit: .commit
        case .checkpoint: .checkpoint
        case .epochBegin: .epochBegin
        case .backupStart: .backupStart
        case .backupEnd: .backupEnd
        case .shutdown: .shutdown
        case .fileEnd: .fileEnd
        }
    }

    static let emptyCommit = "a commit needs at least one operation"

    /// Nil when the body may be written, else why not (limits, empty commits).
    public var limitViolation: String? {
        switch self {
        case .commit(let operations):
            if operations.isEmpty { return Self.emptyCommit }
            for index in operations.indices {
                if let problem = operations[index].limitViolation(asOperation: index) { return problem }
            }
            return nil
        case .backupStart(let label), .backupEnd(let label):
            return label.utf8.count > TranlogLimits.maxLabelBytes
                ? "backup label exceeds \(TranlogLimits.maxLabelBytes) bytes" : nil
        case .checkpoint, .epochBegin, .shutdown, .fileEnd:
            return nil
        }
    }
}

/// A checkpoint finished: extent generation `extentGeneration` holds every change up to the record
/// before this one, and recovery needs no tranlog older than `oldestFileIDNeeded`.
public struct CheckpointInfo: Hashable, Sendable {
    public var extentGeneration: UInt64
    public var oldestFileIDNeeded: FileID

    public init(extentGeneration: UInt64, oldestFileIDNeeded: FileID) {
        self.extentGeneration = extentGeneration
        self.oldestFileIDNeeded = oldestFileIDNeeded
    }
}

/// Epoch `epoch` begins as a child of `parentEpoch`, inheriting the parent's history up to and
/// including `forkSeqno`. The epochBegin record itself has seqno `forkSeqno + 1`.
public struct EpochBeginInfo: Hashable, Sendable {
    public var epoch: Epoch
    public var parentEpoch: Epoch
    public var forkSeqno: Seqno

    public init(epoch: Epoch, parentEpoch: Epoch, forkSeqno: Seqno) {
        self.epoch = epoch
        self.parentEpoch = parentEpoch
        self.forkSeqno = forkSeqno
    }
}
