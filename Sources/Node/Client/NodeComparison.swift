import Foundation
import Repository
import Tranlog

/// `understudy verify`'s logic: two nodes' content digests at a common seqno, and, when they
/// differ, the first key (in byte order) whose object differs.
public struct NodeComparison {
    public let first: NodeClient
    public let second: NodeClient

    public init(_ first: NodeClient, _ second: NodeClient) {
        self.first = first
        self.second = second
    }

    /// Both digests once the nodes stand at the same applied seqno, polling until `deadline`: the
    /// one behind catches up, but a primary under writes may keep moving, so a seqno seen on one
    /// node and then on the other is retried until both are seen at the same one.
    public func digestsAtCommonSeqno(deadline: ContinuousClock.Instant) throws(NodeClientError) -> (PositionedDigest, PositionedDigest)? {
        while true {
            let digests = (try first.status().repository.digest, try second.status().repository.digest)
            if digests.0.seqno == digests.1.seqno { return digests }
            if ContinuousClock.now >= deadline { return nil }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// The first key in byte order that one node has and the other has not, or holds with another
    /// value or write seqno; nil when the listings agree throughout (the nodes may have moved on).
    public func firstDifference() throws(NodeClientError) -> KeyDifference? {
        var pages = (try first.list(limit: Self.pageSize), try second.list(limit: Self.pageSize))
        var cursors = (pages.0.keys[...], pages.1.keys[...])
        while true {
            if cursors.0.isEmpty, let next = pages.0.next { pages.0 = try first.list(after: next.bytes, limit: Self.pageSize); cursors.0 = pages.0.keys[...] }
            if cursors.1.isEmpty, let next = pages.1.next { pages.1 = try second.list(after: next.bytes, limit: Self.pageSize); cursors.1 = pages.1.keys[...] }
            guard let key = [cursors.0.first, cursors.1.first].compactMap({ $0?.bytes }).min(by: { $0.lexicographicallyPrecedes($1) }) else { return nil }
            if cursors.0.first?.bytes == key { cursors.0 = cursors.0.dropFirst() }
            if cursors.1.first?.bytes == key { cursors.1 = cursors.1.dropFirst() }
            let objects = (try first.get(key: key), try second.get(key: key))
            if objects.0 != objects.1 {
                return KeyDifference(
                    key: WireKey(key), first: objects.0.map { KeyDifference.Described($0) }, second: objects.1.map { KeyDifference.Described($0) })
            }
        }
    }

    static let pageSize = 1000
}

/// The first differing key and what each node holds there (nil: no value).
public struct KeyDifference: Codable, Hashable, Sendable {
    public var key: WireKey
    public var first: Described?
    public var second: Described?

    /// An object as `verify` shows it: its write seqno, size and the start of its value (values
    /// may be large or binary).
    public struct Described: Codable, Hashable, Sendable, CustomStringConvertible {
        public var seqno: Seqno
        public var bytes: Int
        /// The first 64 bytes, as `KeyText` shows keys.
        public var valueStart: String

        init(_ object: FetchedObject) {
            seqno = object.seqno
            bytes = object.value.count
            valueStart = KeyText.display(Array(object.value.prefix(64)))
        }

        public var description: String { "\(valueStart)\(bytes > 64 ? "…" : "") (\(bytes) bytes) written at seqno \(seqno)" }
    }
}
