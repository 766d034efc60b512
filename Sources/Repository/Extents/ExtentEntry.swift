import Tranlog

/// One key's state in an extent run: its value and the seqno of the commit that last wrote it, or a
/// tombstone (`value == nil`) recording a delete that must shadow the key in older runs.
public struct ExtentEntry: Hashable, Sendable {
    public var key: [UInt8]
    public var value: [UInt8]?
    public var seqno: Seqno

    public init(key: [UInt8], value: [UInt8]?, seqno: Seqno) {
        self.key = key
        self.value = value
        self.seqno = seqno
    }

    public var isTombstone: Bool { value == nil }
}

/// What MANIFEST records about one run, and what opening a run reports after checking its footer.
public struct ExtentRunSummary: Hashable, Sendable, Codable {
    public var fileName: String
    public var generation: UInt64
    public var entryCount: UInt64
    public var tombstoneCount: UInt64
    public var byteCount: UInt64
    /// Zero when the run is empty.
    public var minSeqno: Seqno
    public var maxSeqno: Seqno

    public init(
        fileName: String, generation: UInt64, entryCount: UInt64, tombstoneCount: UInt64, byteCount: UInt64,
        minSeqno: Seqno, maxSeqno: Seqno
    ) {
        self.fileName = fileName
        self.generation = generation
        self.entryCount = entryCount
        self.tombstoneCount = tombstoneCount
        self.byteCount = byteCount
        self.minSeqno = minSeqno
        self.maxSeqno = maxSeqno
    }

    /// `extent-000007.dbf`: six digits at least, so names sort like their generations up to 999,999.
    public static func fileName(generation: UInt64) -> String {
        let digits = String(generation)
        return "extent-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".dbf"
    }

    /// The generation named by `extent-000007.dbf`; nil for any other name (including a differently
    /// padded one, so that every generation has exactly one file name).
    public static func generation(fileName: String) -> UInt64? {
        guard fileName.hasPrefix("extent-"), fileName.hasSuffix(".dbf") else { return nil }
        let digits = fileName.dropFirst("extent-".count).dropLast(".dbf".count)
        guard digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let generation = UInt64(digits), Self.fileName(generation: generation) == fileName
        else { return nil }
        return generation
    }
}
