/// One epoch of a repository's history: it begins at `startSeqno` (its epochBegin record) as a
/// child of `parentEpoch`, inheriting the parent's records up to `startSeqno - 1`.
public struct EpochEntry: Hashable, Sendable, Codable, CustomStringConvertible {
    public var epoch: Epoch
    public var startSeqno: Seqno
    public var parentEpoch: Epoch
    public var time: Timestamp
    public var sourceID: SourceID

    public init(epoch: Epoch, startSeqno: Seqno, parentEpoch: Epoch, time: Timestamp, sourceID: SourceID) {
        self.epoch = epoch
        self.startSeqno = startSeqno
        self.parentEpoch = parentEpoch
        self.time = time
        self.sourceID = sourceID
    }

    /// Two entries describe the same branch point; time and source are informational.
    public func sameBranch(as other: EpochEntry) -> Bool {
        epoch == other.epoch && startSeqno == other.startSeqno && parentEpoch == other.parentEpoch
    }

    public var description: String { "epoch \(epoch) from seqno \(startSeqno) (parent \(parentEpoch), \(sourceID), \(time))" }
}

/// A repository's history: its epochs in order, each starting where its parent was left. The last
/// epoch is open-ended. Two histories **fork** where they disagree on an epoch boundary; nothing is
/// ever replayed across a fork.
public struct EpochHistory: Hashable, Sendable, Codable, CustomStringConvertible {
    public private(set) var entries: [EpochEntry]

    /// A new repository's history: epoch 1 from seqno 1.
    public init(first: EpochEntry) {
        entries = [first]
    }

    /// Validates that epochs increase, each is a child of the one before, and start seqnos do not go back.
    public init(entries: [EpochEntry]) throws(EpochHistoryError) {
        guard let first = entries.first else { throw .empty }
        self.entries = [first]
        for entry in entries.dropFirst() { try append(entry) }
    }

    public var current: EpochEntry { entries[entries.count - 1] }

    /// Records a new epoch (commitRestore).
    public mutating func append(_ entry: EpochEntry) throws(EpochHistoryError) {
        guard entry.epoch > current.epoch, entry.parentEpoch == current.epoch, entry.startSeqno > current.startSeqno else {
            throw .notAChild(entry, of: current)
        }
        entries.append(entry)
    }

    /// The epoch that seqno `seqno` belongs to on this history.
    public func epoch(containing seqno: Seqno) -> Epoch? {
        entries.last(where: { $0.startSeqno <= seqno })?.epoch
    }

    /// The last seqno of `epoch` on this history; nil while it is the open, current epoch (or unknown).
    public func lastSeqno(of epoch: Epoch) -> Seqno? {
        guard let index = entries.firstIndex(where: { $0.epoch == epoch }), index + 1 < entries.count else { return nil }
        return Seqno(entries[index + 1].startSeqno.rawValue - 1)
    }

    /// Whether `position` lies on this history: its epoch is here and its seqno is inside that epoch.
    public func contains(_ position: LogPosition) -> Bool {
        guard let entry = entries.first(where: { $0.epoch == position.epoch }) else { return false }
        if position.seqno < entry.startSeqno && !(position.seqno == .zero && entry == entries[0]) { return false }
        return lastSeqno(of: position.epoch).map { position.seqno <= $0 } ?? true
    }

    /// Orders two positions of this history; nil if either is not on it.
    public func order(_ a: LogPosition, _ b: LogPosition) -> Ordering? {
        guard contains(a), contains(b) else { return nil }
        return a.seqno < b.seqno ? .before : a.seqno == b.seqno ? .same : .after
    }

    public enum Ordering: Sendable { case before, same, after }

    /// Where this history and `other` part: nil when one is a prefix of the other (they agree on
    /// every epoch boundary both know), else the fork.
    public func fork(with other: EpochHistory) -> Fork? {
        for index in 0..<min(entries.count, other.entries.count) where !entries[index].sameBranch(as: other.entries[index]) {
            let common = index > 0 ? entries[index - 1] : nil
            let lastCommon = Seqno(min(entries[index].startSeqno.rawValue, other.entries[index].startSeqno.rawValue) - 1)
            return Fork(commonEpoch: common?.epoch, lastCommonSeqno: lastCommon, ours: entries[index], theirs: other.entries[index])
        }
        return nil
    }

    /// Whether a node whose history is `self` and whose last applied position is `applied` may
    /// continue by applying `upstream`'s records: true unless it applied something `upstream`'s
    /// history does not contain. A node that stopped exactly at a fork point may follow either branch.
    public func canFollow(_ upstream: EpochHistory, from applied: LogPosition) -> FollowDecision {
        if let fork = fork(with: upstream) {
            return applied.seqno <= fork.lastCommonSeqno ? .follows : .forked(fork)
        }
        // One history is a prefix of the other: the longer one opened an epoch the shorter one has not
        // seen, and the shorter one's last epoch may have gone on past that point.
        let shared = min(entries.count, upstream.entries.count)
        guard entries.count != upstream.entries.count else { return .follows }
        let ours = entries.count > shared ? entries[shared] : current
        let theirs = upstream.entries.count > shared ? upstream.entries[shared] : upstream.current
        let lastCommon = Seqno(max(ours.startSeqno, theirs.startSeqno).rawValue - 1)
        guard applied.seqno > lastCommon else { return .follows }
        return .forked(Fork(commonEpoch: entries[shared - 1].epoch, lastCommonSeqno: lastCommon, ours: ours, theirs: theirs))
    }

    public var description: String { entries.map(\.description).joined(separator: "; ") }
}

/// Where two histories part.
public struct Fork: Hashable, Sendable, CustomStringConvertible {
    /// The last epoch both agree on (nil if they disagree from the first).
    public var commonEpoch: Epoch?
    /// The last seqno both histories share.
    public var lastCommonSeqno: Seqno
    /// The first entry each side has that the other does not.
    public var ours: EpochEntry
    public var theirs: EpochEntry

    public init(commonEpoch: Epoch?, lastCommonSeqno: Seqno, ours: EpochEntry, theirs: EpochEntry) {
        self.commonEpoch = commonEpoch
        self.lastCommonSeqno = lastCommonSeqno
        self.ours = ours
        self.theirs = theirs
    }

    /// The first seqno that differs.
    public var forkSeqno: Seqno { lastCommonSeqno.next }

    public var description: String {
        "fork in time after seqno \(lastCommonSeqno)"
            + (commonEpoch.map { " of epoch \($0)" } ?? "")
            + ": ours continues with \(ours), theirs with \(theirs)"
    }
}

public enum FollowDecision: Hashable, Sendable {
    case follows
    case forked(Fork)
}

public enum EpochHistoryError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case notAChild(EpochEntry, of: EpochEntry)

    public var description: String {
        switch self {
        case .empty: "an epoch history needs at least its first epoch"
        case .notAChild(let entry, let current):
            "\(entry) cannot follow \(current): epochs must increase, name the current epoch as parent, and start later"
        }
    }
}
