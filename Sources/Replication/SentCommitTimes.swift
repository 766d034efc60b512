import Tranlog

/// The commit times of records a shipper sent and its standby has not yet acknowledged as applied,
/// so the primary measures the standby's applied lag by the same rule as the standby (`LagRule`)
/// from positions alone. Bounded: past `capacity` entries only one record per `stride` is kept, and a
/// lookup between two kept ones answers the older time, which overstates the lag, never understates it.
struct SentCommitTimes {
    private var entries: [(seqno: Seqno, time: Timestamp)] = []
    private var head = 0
    private var skipped = 0
    let capacity: Int
    let stride: Int

    init(capacity: Int = 65_536, stride: Int = 64) {
        self.capacity = capacity
        self.stride = stride
    }

    mutating func sent(_ seqno: Seqno, committed time: Timestamp) {
        if entries.count - head >= capacity {
            skipped += 1
            guard skipped % stride == 0 else { return }
        }
        entries.append((seqno, time))
    }

    /// The commit time of `seqno`, or of the newest kept record before it; nil when none was sent (the
    /// standby applied only what it held before this connection). Forgets the older entries.
    mutating func applied(through seqno: Seqno) -> Timestamp? {
        var found: Int?
        while head < entries.count, entries[head].seqno <= seqno {
            found = head
            head += 1
        }
        guard let found else { return nil }
        // The found entry stays: a later ack at the same seqno asks again.
        head = found
        let time = entries[found].time
        if head > 4096, head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
        return time
    }
}
