import Replication
import Repository
import Tranlog

/// How fast the tranlog grows, from the file sizes sampled about once a second over the last
/// minute: the runway in seconds is what is left under `--max-retained-mbytes` at that rate. Files
/// removed between samples do not count as shrinking, new files count whole.
struct LogGrowth {
    private var lastSizes: [FileID: UInt64]?
    private var deltas: [(at: ContinuousClock.Instant, bytes: UInt64)] = []
    private var windowStart: ContinuousClock.Instant?
    let window: Duration

    init(window: Duration = .seconds(60)) {
        self.window = window
    }

    mutating func sample(_ files: [RetainedFile], at now: ContinuousClock.Instant) {
        let sizes = Dictionary(files.map { ($0.fileID, $0.bytes) }) { _, last in last }
        if let lastSizes {
            let grown = sizes.reduce(UInt64(0)) { sum, entry in
                let before = lastSizes[entry.key] ?? 0
                return sum + (entry.value > before ? entry.value - before : 0)
            }
            deltas.append((now, grown))
        } else {
            windowStart = now
        }
        lastSizes = sizes
        while let oldest = deltas.first, now - oldest.at > window {
            deltas.removeFirst()
            windowStart = oldest.at
        }
    }

    /// Bytes per second over the window; nil before two samples.
    func bytesPerSecond(at now: ContinuousClock.Instant) -> Double? {
        guard let windowStart, !deltas.isEmpty else { return nil }
        let seconds = (now - windowStart).inSeconds
        guard seconds > 0 else { return nil }
        return Double(deltas.reduce(0) { $0 + $1.bytes }) / seconds
    }
}
