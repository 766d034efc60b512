import Tranlog

/// How fast a standby applies, whether it is converging on its primary, and how its applied lag moved
/// over the last minute (`apply` and `lagHistory` in a standby's `GET /status`).
public struct ApplyProgress: Sendable, Equatable {
    /// The applied stage's lag at one moment.
    public struct Sample: Sendable, Equatable {
        public var secondsBehind: Double?
        public var recordsBehind: UInt64
    }

    /// Records and tranlog bytes applied per second over the last `windowSeconds`.
    public var recordsPerSecond: Double
    public var bytesPerSecond: Double
    /// The primary's commits (seqnos) per second over the same window, from its heartbeats.
    public var primaryRecordsPerSecond: Double
    /// The window the rates cover: 10 s once the standby has run that long, less before.
    public var windowSeconds: Double
    /// Seconds until applied reaches the primary at these rates: 0 when caught up; for a standby
    /// keeping pace within one heartbeat's records, the time to apply those; nil when the standby is
    /// not catching up (a backlog, and it applies no faster than the primary commits, or nothing) or
    /// cannot know (disconnected or stalled: the primary may be committing unheard).
    public var catchUpSeconds: Double?
    /// The applied lag, one sample per second (per tick when ticks are longer), oldest first, at most
    /// a minute of them.
    public var history: [Sample]
    /// Since the receiver started: tranlog bytes received, tranlog bytes and records applied (the
    /// counters a monitoring system takes rates of).
    public var totals = Totals()

    public struct Totals: Sendable, Equatable {
        public var receivedBytes: UInt64 = 0
        public var appliedBytes: UInt64 = 0
        public var appliedRecords: UInt64 = 0
    }
}

/// Keeps the inputs of `ApplyProgress`. Like `LagTracker`, time passes in ticks of one heartbeat
/// interval driven by the receiver's timer, so the figures are deterministic in tests.
struct ApplyProgressTracker {
    private struct WindowSample {
        var applied: Seqno
        var appliedBytes: UInt64
        var primary: Seqno?
    }

    private let tickSeconds: Double
    private let windowTicks: Int
    private let historyCapacity: Int
    /// One per tick, the newest last; one more than `windowTicks` so the window spans `windowTicks` ticks.
    private var window: [WindowSample] = []
    private var history: [ApplyProgress.Sample] = []
    /// Time since the last history sample: ticks shorter than a second add up to one.
    private var secondsSinceSample = 0.0
    private var appliedBytes: UInt64 = 0
    private var receivedBytes: UInt64 = 0
    private var appliedRecords: UInt64 = 0
    /// The last seqno applied (at start, where the standby stood): records applied are counted from it.
    private var lastApplied: Seqno
    /// Received batches not yet applied: their last seqno and the received byte count through them.
    /// Applying through a seqno moves the byte count of the last batch it covers to `appliedBytes`;
    /// records that were already in the mirror when the receiver started count no bytes.
    private var unappliedBatches: [(seqno: Seqno, bytesThrough: UInt64)] = []

    init(tickInterval: Duration, appliedFrom: Seqno = .zero, window: Duration = .seconds(10), historySpan: Duration = .seconds(60)) {
        lastApplied = appliedFrom
        tickSeconds = max(tickInterval.inSeconds, 0.001)
        windowTicks = max(1, Int((window.inSeconds / tickSeconds).rounded()))
        historyCapacity = max(1, Int(historySpan.inSeconds / max(tickSeconds, 1)))
    }

    mutating func received(through seqno: Seqno, bytes: Int) {
        receivedBytes += UInt64(bytes)
        unappliedBatches.append((seqno, receivedBytes))
    }

    mutating func applied(through seqno: Seqno) {
        if seqno > lastApplied {
            appliedRecords += lastApplied.distance(to: seqno)
            lastApplied = seqno
        }
        guard let covered = unappliedBatches.lastIndex(where: { $0.seqno <= seqno }) else { return }
        appliedBytes = unappliedBatches[covered].bytesThrough
        unappliedBatches.removeFirst(covered + 1)
    }

    /// One heartbeat interval passed; `lag` is the lag as of now (its applied seqno is the one the
    /// rates count).
    mutating func tick(lag: ReplicationLag) {
        window.append(WindowSample(applied: lag.applied.seqno, appliedBytes: appliedBytes, primary: lag.primaryLastSeqno))
        if window.count > windowTicks + 1 { window.removeFirst(window.count - windowTicks - 1) }
        secondsSinceSample += tickSeconds
        guard secondsSinceSample >= 1 - 1e-9 else { return }
        secondsSinceSample = max(0, secondsSinceSample - 1).truncatingRemainder(dividingBy: 1)
        history.append(ApplyProgress.Sample(secondsBehind: lag.applied.secondsBehind, recordsBehind: lag.applied.recordsBehind))
        if history.count > historyCapacity { history.removeFirst(history.count - historyCapacity) }
    }

    func progress(lag: ReplicationLag) -> ApplyProgress {
        guard let first = window.first, let last = window.last, window.count > 1 else {
            return ApplyProgress(
                recordsPerSecond: 0, bytesPerSecond: 0, primaryRecordsPerSecond: 0, windowSeconds: 0,
                catchUpSeconds: lag.isFresh && lag.applied.recordsBehind == 0 ? 0 : nil, history: history, totals: totals)
        }
        let seconds = Double(window.count - 1) * tickSeconds
        let records = Double(first.applied.distance(to: last.applied)) / seconds
        return ApplyProgress(
            recordsPerSecond: records, bytesPerSecond: Double(last.appliedBytes - first.appliedBytes) / seconds,
            primaryRecordsPerSecond: primaryRate(), windowSeconds: seconds,
            catchUpSeconds: lag.isFresh ? catchUpSeconds(behind: lag.applied.recordsBehind, applying: records, committing: primaryRate()) : nil,
            history: history, totals: totals)
    }

    private var totals: ApplyProgress.Totals {
        ApplyProgress.Totals(receivedBytes: receivedBytes, appliedBytes: appliedBytes, appliedRecords: appliedRecords)
    }

    /// From the oldest sample of the window that knew the primary's position (none before a welcome).
    private func primaryRate() -> Double {
        guard let last = window.last?.primary, let oldest = window.firstIndex(where: { $0.primary != nil }),
            oldest < window.count - 1, let first = window[oldest].primary
        else { return 0 }
        return Double(first.distance(to: last)) / (Double(window.count - 1 - oldest) * tickSeconds)
    }

    private func catchUpSeconds(behind: UInt64, applying: Double, committing: Double) -> Double? {
        if behind == 0 { return 0 }
        // Keeping pace with no more behind than one heartbeat brings: the records in flight, not a
        // backlog. They land at the apply rate; the closing speed is ~0 there and means nothing.
        if applying > 0, applying >= committing * 0.95, Double(behind) <= committing * tickSeconds { return Double(behind) / applying }
        let closing = applying - committing
        return closing > 0 ? Double(behind) / closing : nil
    }
}
