import CJemalloc

/// The process heap as jemalloc counts it. jemalloc is the process's allocator (linked in through
/// this module, ahead of the C library's malloc): with glibc's, a standby catching up spent a
/// sixth of its applier's time waiting for the lock of the malloc arena that the decoding thread
/// allocated from (docs/DECISIONS.md, "jemalloc as the allocator").
public struct HeapStatistics: Sendable, Equatable {
    /// Bytes the program holds in allocations.
    public var allocatedBytes: Int
    /// Bytes of physical memory the allocator keeps mapped (allocations, its metadata, and freed
    /// pages not returned yet): what the heap costs the machine.
    public var residentBytes: Int

    /// A fresh reading; nil if jemalloc does not answer (a statistic it does not know).
    public static func read() -> HeapStatistics? {
        guard understudy_heap_refresh() == 0, let allocated = statistic("stats.allocated"), let resident = statistic("stats.resident") else {
            return nil
        }
        return HeapStatistics(allocatedBytes: allocated, residentBytes: resident)
    }

    private static func statistic(_ name: String) -> Int? {
        var value = 0
        guard understudy_heap_statistic(name, &value) == 0 else { return nil }
        return value
    }
}
