import Repository
import Tranlog

/// The frames the mirror writer synced, waiting for the applier, in order and bounded in bytes. When
/// the applier falls behind by more than `maxBytes`, newer frames are not kept: the applier finds
/// the gap (a frame past its next seqno) and reads the mirror from disk up to it, where they are.
public struct MirrorHandoff: Sendable {
    public let maxBytes: Int
    private var batches: [MirroredFrames] = []
    public private(set) var bytes = 0
    /// Frames refused for want of room, since the start (a gap the applier bridges from disk).
    public private(set) var droppedBatches = 0

    /// Default bound: 256 MiB of frames, about 1.5 million small commits. A standby catching up
    /// receives far faster than it applies; with 32 MiB, most of a catch-up of 400,000 commits was
    /// read back from the mirror and decoded again (43% of the standby's CPU), and catching up took
    /// 2.54 s instead of 2.01 s. The memory is held only while the applier is behind.
    public init(maxBytes: Int = 256 << 20) {
        self.maxBytes = maxBytes
    }

    /// Keeps `mirrored` for the applier unless that passes the bound.
    public mutating func push(_ mirrored: [MirroredFrames]) {
        for batch in mirrored {
            guard bytes + batch.frames.count <= maxBytes else {
                droppedBatches += 1
                continue
            }
            batches.append(batch)
            bytes += batch.frames.count
        }
    }

    /// The batches holding seqnos up to `target`, oldest first. They stay until `release`d: a delayed
    /// standby applies only part of them, and the rest waits here for its horizon.
    public func batches(through target: Seqno) -> [MirroredFrames] {
        Array(batches.prefix { ($0.firstSeqno ?? .zero) <= target })
    }

    /// Forgets the batches applied whole (through `applied`); a batch reaching past it is kept.
    public mutating func release(through applied: Seqno) {
        let done = batches.prefix { ($0.lastSeqno ?? .zero) <= applied }
        batches.removeFirst(done.count)
        bytes -= done.reduce(0) { $0 + $1.frames.count }
    }

    /// The commit time of the record after `seqno`, when held here: when a delayed applier may take it.
    public func commitTime(after seqno: Seqno) -> Timestamp? {
        for batch in batches where (batch.lastSeqno ?? .zero) > seqno {
            return batch.headers.first { $0.seqno == seqno.next }?.time
        }
        return nil
    }
}
