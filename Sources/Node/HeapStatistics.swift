#if canImport(Glibc)
import Glibc
#endif

/// The process heap as jemalloc counts it, when the process runs on jemalloc: the `understudy`
/// binary links it ahead of the C library's malloc (with glibc's, a standby catching up spent a
/// sixth of its applier's time waiting for the lock of the malloc arena the decoding thread
/// allocated from; docs/DECISIONS.md, "jemalloc as the allocator"). Found at run time, so that
/// processes on another allocator (the test runner, sanitizer builds) simply have no reading.
struct HeapStatistics: Sendable {
    /// Bytes the program holds in allocations.
    var allocatedBytes: Int
    /// Bytes of physical memory the allocator keeps mapped (allocations, its metadata, and freed
    /// pages not returned yet): what the heap costs the machine.
    var residentBytes: Int

    /// A fresh reading; nil when the process does not run on jemalloc.
    static func read() -> HeapStatistics? {
        guard let mallctl = Self.mallctl else { return nil }
        // The statistics are a snapshot taken when "epoch" is written; without that, "stats.*"
        // keeps answering with the figures of the last refresh.
        var epoch: UInt64 = 1
        guard mallctl("epoch", nil, nil, &epoch, MemoryLayout<UInt64>.size) == 0 else { return nil }
        func statistic(_ name: String) -> Int? {
            var value = 0
            var length = MemoryLayout<Int>.size
            return mallctl(name, &value, &length, nil, 0) == 0 ? value : nil
        }
        guard let allocated = statistic("stats.allocated"), let resident = statistic("stats.resident") else { return nil }
        return HeapStatistics(allocatedBytes: allocated, residentBytes: resident)
    }

    /// jemalloc's `int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)`.
    private typealias Mallctl = @convention(c) (
        UnsafePointer<CChar>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?, UnsafeMutableRawPointer?, Int
    ) -> Int32

    /// Looked up among the symbols the process has loaded: present only when jemalloc is.
    private static let mallctl: Mallctl? = dlsym(dlopen(nil, RTLD_NOW), "mallctl").map { unsafeBitCast($0, to: Mallctl.self) }
}
