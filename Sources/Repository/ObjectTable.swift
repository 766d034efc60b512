import HashTreeCollections
import Tranlog

/// A value and the seqno of the commit that wrote it, with the object's share of the content
/// digest, hashed once when the object is made: replacing or removing it subtracts the share kept
/// here instead of hashing the old value again (an overwrite then costs one hash, not two).
public struct StoredObject: Hashable, Sendable {
    public let value: [UInt8]
    public let seqno: Seqno
    /// `ContentDigest.hash` of the key, value and seqno.
    let contentHash: ContentDigest

    public init(key: [UInt8], value: [UInt8], seqno: Seqno) {
        self.value = value
        self.seqno = seqno
        contentHash = ContentDigest.hash(key: key, value: value, seqno: seqno)
    }
}

/// One write of a commit, made ahead of the table: its key and the object it leaves (nil: deleted).
struct PreparedWrite: Sendable {
    let key: ObjectKey
    fileprivate(set) var object: StoredObject?

    init(_ operation: Operation, seqno: Seqno) {
        switch operation {
        case .put(let key, let value): self.init(key: key, value: value, seqno: seqno)
        case .delete(let key): self.init(key: key, value: nil, seqno: seqno)
        }
    }

    /// `value` nil: a delete.
    init(key: [UInt8], value: [UInt8]?, seqno: Seqno) {
        self.key = ObjectKey(key)
        object = value.map { StoredObject(key: key, value: $0, seqno: seqno) }
    }

    private init(key: ObjectKey, object: StoredObject?) {
        self.key = key
        self.object = object
    }

    /// What a write moved into the table leaves behind: it owns no storage (an empty array is shared).
    static var taken: PreparedWrite { PreparedWrite(key: ObjectKey([]), object: nil) }
}

/// The repository's objects: an immutable-snapshot hash trie, so a copy is O(1) and readers,
/// checkpoints and backups hold their own snapshot while the writer moves on.
///
/// Every change goes through `set`, which keeps the content digest in step in O(1): commits,
/// replays, restores and recovery all maintain it without knowing of it.
public struct ObjectTable: Sendable {
    private var objects: TreeDictionary<ObjectKey, StoredObject> = [:]
    /// The digest of exactly these objects.
    public private(set) var digest = ContentDigest.empty

    public init() {}

    public var count: Int { objects.count }

    public subscript(key: [UInt8]) -> StoredObject? { objects[ObjectKey(key)] }

    /// Applies a commit's operations as written by `seqno`.
    public mutating func apply(_ operations: [Operation], seqno: Seqno) {
        for operation in operations {
            let write = PreparedWrite(operation, seqno: seqno)
            set(write.key, to: write.object)
        }
    }

    /// Moves writes `range`, made beforehand (on another thread: making an object hashes it for the
    /// digest), into the table, leaving `PreparedWrite.taken` in their place. So neither the applier
    /// nor whoever frees the batch touches a new object's reference count, a cache line the
    /// preparing thread had just written (the copies were 4–13% of a catch-up's applier).
    mutating func apply(taking range: Range<Int>, of writes: inout [PreparedWrite]) {
        writes.withUnsafeMutableBufferPointer { writes in
            precondition(range.lowerBound >= 0 && range.upperBound <= writes.count, "writes \(range) of \(writes.count)")
            for index in range {
                let slot = writes.baseAddress! + index
                var write = slot.move()
                slot.initialize(to: .taken)
                var object: StoredObject?
                swap(&object, &write.object)
                set(write.key, moving: &object)
            }
        }
    }

    /// Loads one extent entry (an audit, a backup): a tombstone removes the key.
    public mutating func load(_ entry: ExtentEntry) {
        set(entry.key, to: entry.value.map { StoredObject(key: entry.key, value: $0, seqno: entry.seqno) })
    }

    /// Loads an extent entry's object, made already (on another thread: `Recovery.loadRuns`).
    mutating func load(_ key: [UInt8], _ object: StoredObject) {
        set(key, to: object)
    }

    private mutating func set(_ key: [UInt8], to object: StoredObject?) {
        set(ObjectKey(key), to: object)
    }

    private mutating func set(_ key: ObjectKey, to object: StoredObject?) {
        var object = object
        set(key, moving: &object)
    }

    /// Puts `object` under `key`, or removes the key for nil, moving the object in (it is nil after).
    private mutating func set(_ key: ObjectKey, moving object: inout StoredObject?) {
        let replaced: StoredObject?
        if let added = object?.contentHash {
            digest.add(added)
            replaced = put(&object, forKey: key)
        } else {
            replaced = objects.removeValue(forKey: key)
        }
        if let replaced { digest.remove(replaced.contentHash) }
    }

    /// A replaced object is swapped out, not copied: `updateValue(_:forKey:)` retained the new object
    /// twice on the way in, each a cache line the preparing thread had just written.
    private mutating func put(_ incoming: inout StoredObject?, forKey key: ObjectKey) -> StoredObject? {
        objects.updateValue(forKey: key, default: incoming.take()!) { slot in
            guard var replaced = incoming.take() else { return nil }
            swap(&slot, &replaced)
            return replaced
        }
    }

    /// Keys starting with `prefix`, after `after` if given, in byte order, at most `limit` of them.
    /// The hash trie is unordered, so this scans every key: O(n). Fine for operator listings; a
    /// workload that lists large ranges often wants an ordered index (see docs/OPERATIONS.md).
    public func keys(prefix: [UInt8], after: [UInt8]? = nil, limit: Int) -> [[UInt8]] {
        var matching = objects.keys.compactMap { key -> [UInt8]? in
            guard key.bytes.starts(with: prefix), after.map({ ObjectKey.precedes($0, key.bytes) }) ?? true else { return nil }
            return key.bytes
        }
        matching.sort(by: ObjectKey.precedes)
        return Array(matching.prefix(limit))
    }

    /// The objects written by commits after `seqno`, as extent entries, unordered.
    func entries(writtenAfter seqno: Seqno) -> [ExtentEntry] {
        objects.compactMap { $0.value.seqno > seqno ? ExtentEntry(key: $0.key.bytes, value: $0.value.value, seqno: $0.value.seqno) : nil }
    }

    /// Every object in key order (byte order: extent runs and backups are written in it).
    public func sortedObjects() -> [(key: [UInt8], object: StoredObject)] {
        var sorted = objects.map { (key: $0.key.bytes, object: $0.value) }
        ObjectKey.sortInByteOrder(&sorted) { ObjectKey($0.key) }
        return sorted
    }
}
