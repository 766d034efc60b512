import Foundation

/// The physical limit for one committer: append 4 KiB to a file and `fdatasync` it, over and over.
/// No tranlog code is involved, so this is what the disk and kernel give.
enum SyncLatency {
    struct Result {
        var syncs: Int
        var elapsed: Duration
        var latency: LatencySummary
    }

    static let blockBytes = 4096

    static func measure(in directory: String, for duration: Duration) throws -> Result {
        let path = directory + "/fdatasync.bench"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_EXCL, 0o644)
        guard descriptor >= 0 else { throw BenchmarkError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer {
            close(descriptor)
            unlink(path)
        }
        let block = [UInt8](repeating: 0xA5, count: blockBytes)
        var samples: [Duration] = []
        let clock = ContinuousClock()
        let started = clock.now
        while clock.now - started < duration {
            let before = clock.now
            guard write(descriptor, block, block.count) == block.count, fdatasync(descriptor) == 0 else {
                throw BenchmarkError("writing or syncing \(path) failed: \(String(cString: strerror(errno)))")
            }
            samples.append(clock.now - before)
        }
        return Result(syncs: samples.count, elapsed: clock.now - started, latency: LatencySummary(samples))
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
