import DequeModule
import Foundation

/// The newest durable frames of a log, kept in memory by its writer after each `fdatasync`, so that
/// a shipper serving a caught-up standby sends them without reading a file (PostgreSQL's walsender
/// reads recent WAL from shared buffers the same way). Bounded by bytes: the oldest batches are
/// dropped first, and a reader behind what is held falls back to the files.
///
/// The frames are the writer's own bytes: their CRCs and chain were made by the writer, so nothing
/// here decodes or checks them again. Thread-safe; the writer appends on its flush thread, readers
/// (loop threads) take copies under a lock held only for the copy.
public final class RecentFrames: @unchecked Sendable {
    /// Consecutive whole frames of one file, starting at `offset`, with each frame's header.
    public struct Frames: Sendable {
        public var fileID: FileID
        public var offset: UInt64
        public var bytes: [UInt8]
        public var headers: [FrameHeader]

        public var end: UInt64 { offset + UInt64(bytes.count) }
    }

    /// What comes after a position.
    public enum Next: Sendable {
        /// Frames from the position on (at least one; about `maxBytes`).
        case frames(Frames)
        /// The position is the end of its file, which the writer ended and followed with this file
        /// (its header bytes, as written).
        case nextFile(FileID, header: [UInt8])
        /// The position is the end of everything durable.
        case caughtUp
        /// Not held (older than the oldest batch kept, or from before this writer): read the files.
        case notHeld
    }

    fileprivate enum Entry {
        case frames(Frames)
        case fileStart(FileID, header: [UInt8])

        var byteCount: Int {
            switch self {
            case .frames(let frames): frames.bytes.count
            case .fileStart(_, let header): header.count
            }
        }
    }

    public let capacityBytes: Int
    private static let joinBytes = 1 << 20
    private let lock = NSLock()
    private var entries = Deque<Entry>()
    private var heldBytes = 0
    private var lastDurableSeqno: Seqno?
    /// The writer's end when it attached this buffer with nothing unsynced: durable before any batch.
    private var attachedAt: EventID?
    private var observers: [@Sendable () -> Void] = []

    /// Keeps about `capacityBytes` of the newest frames (at least the newest batch).
    public init(capacityBytes: Int = 16 << 20) {
        self.capacityBytes = capacityBytes
    }

    /// The last seqno the writer synced since this buffer was attached; nil before any.
    public var durableSeqno: Seqno? { lock.withLock { lastDurableSeqno } }

    /// The end of the durable log: where the next frame goes after everything synced (or, before any
    /// batch, where the writer stood when it attached this buffer with nothing unsynced); nil when
    /// not known.
    public var durableEnd: EventID? {
        lock.withLock {
            switch entries.last {
            case .frames(let frames)?: EventID(fileID: frames.fileID, offset: frames.end)
            case .fileStart(let fileID, let header)?: EventID(fileID: fileID, offset: UInt64(header.count))
            case nil: attachedAt
            }
        }
    }

    /// Registers `observer`, called on the writer's flush thread after each durable batch: it must
    /// return quickly (replication queues one wake-up of its shippers).
    public func observe(_ observer: @escaping @Sendable () -> Void) {
        lock.withLock { observers.append(observer) }
    }

    /// Forgets every frame: the writer they came from is gone (a new epoch's writer starts afresh).
    /// `durableEnd`: that writer's end, when everything it holds is synced.
    func reset(durableEnd: EventID?) {
        lock.withLock {
            entries.removeAll()
            heldBytes = 0
            lastDurableSeqno = nil
            attachedAt = durableEnd
        }
    }

    /// The writer synced these frames (in log order), then started `nextFile` if the batch rotated.
    func appendDurable(_ batch: [DurableInput]) {
        let observers: [@Sendable () -> Void] = lock.withLock {
            for input in batch { add(input) }
            while heldBytes > capacityBytes, entries.count > 1, let dropped = entries.popFirst() {
                heldBytes -= dropped.byteCount
            }
            return self.observers
        }
        observers.forEach { $0() }
    }

    private func add(_ input: DurableInput) {
        switch input {
        case .frame(let fileID, let offset, let bytes, let header):
            lastDurableSeqno = header.seqno
            heldBytes += bytes.count
            // Batches of one file join up to about a megabyte: few entries to search, yet the oldest
            // can be dropped in pieces.
            if case .frames(var last)? = entries.last, last.fileID == fileID, last.end == offset, last.bytes.count < Self.joinBytes {
                entries.removeLast()
                last.bytes.append(contentsOf: bytes)
                last.headers.append(header)
                entries.append(.frames(last))
            } else {
                entries.append(.frames(Frames(fileID: fileID, offset: offset, bytes: bytes, headers: [header])))
            }
        case .fileStart(let fileID, let header):
            heldBytes += header.count
            entries.append(.fileStart(fileID, header: header))
        }
    }

    /// What follows `position` (the offset of the next frame in its file): about `maxBytes` of frames
    /// (at least one), the next file, nothing yet, or not held.
    public func next(after position: EventID, maxBytes: Int) -> Next {
        lock.withLock {
            guard let index = entries.lastIndex(where: { $0.holds(position) }) else {
                return entries.isEmpty ? .notHeld : beyondAll(position)
            }
            guard case .frames(let held) = entries[index] else { preconditionFailure("only frames hold a position") }
            if position.offset < held.end { return .frames(slice(held, from: position.offset, maxBytes: maxBytes)) }
            // At the end of what is held of this file: the next entry, if any, is its successor.
            guard index + 1 < entries.count else { return .caughtUp }
            if case .fileStart(let fileID, let header) = entries[index + 1] { return .nextFile(fileID, header: header) }
            return .notHeld
        }
    }

    /// A position held by no batch: caught up when it is exactly where the next frame will go.
    private func beyondAll(_ position: EventID) -> Next {
        if case .fileStart(let fileID, _)? = entries.last, fileID == position.fileID,
            position.offset == UInt64(FileHeader.size)
        {
            return .caughtUp
        }
        return .notHeld
    }

    /// The frames of `held` from `offset` (a frame boundary) on, about `maxBytes` of them.
    private func slice(_ held: Frames, from offset: UInt64, maxBytes: Int) -> Frames {
        var start = held.offset
        var first = 0
        while start < offset {
            start += UInt64(held.headers[first].length)
            first += 1
        }
        precondition(start == offset, "position \(offset) is not a frame boundary of file \(held.fileID)")
        var end = first
        var bytes = 0
        while end < held.headers.count, bytes == 0 || bytes + held.headers[end].length <= maxBytes {
            bytes += held.headers[end].length
            end += 1
        }
        let from = Int(offset - held.offset)
        return Frames(fileID: held.fileID, offset: offset, bytes: Array(held.bytes[from..<from + bytes]), headers: Array(held.headers[first..<end]))
    }
}

extension RecentFrames {
    /// What the writer hands over for one durable batch, in log order.
    enum DurableInput {
        case frame(FileID, offset: UInt64, bytes: [UInt8], header: FrameHeader)
        case fileStart(FileID, header: [UInt8])
    }
}

extension RecentFrames.Entry {
    /// Whether this batch holds the frame at `position`, or ends exactly there.
    func holds(_ position: EventID) -> Bool {
        guard case .frames(let frames) = self else { return false }
        return frames.fileID == position.fileID && frames.offset <= position.offset && position.offset <= frames.end
    }
}
