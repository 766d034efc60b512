import Tranlog

/// Reads a run's entries in key order, one block at a time, verifying each block before returning
/// any of its entries, and the footer's totals on reaching the end.
struct ExtentRunCursor {
    private let run: ExtentRun
    private let layout: ExtentRunLayout
    private let inflater = RawInflater()
    private var nextBlock = 0
    private var pending: [ExtentEntry] = []
    private var pendingPosition = 0
    private var lastKey: [UInt8]?
    private var seen = ExtentRunTotals()

    init(run: ExtentRun) {
        self.run = run
        self.layout = ExtentRunLayout(file: run.path.string, bytes: run.bytes)
    }

    mutating func next() throws(ExtentError) -> ExtentEntry? {
        while pendingPosition == pending.count {
            guard nextBlock < run.blocks.count else {
                try checkTotals()
                return nil
            }
            pending = try decodeBlock(nextBlock)
            pendingPosition = 0
            nextBlock += 1
        }
        defer { pendingPosition += 1 }
        return pending[pendingPosition]
    }

    private mutating func decodeBlock(_ number: Int) throws(ExtentError) -> [ExtentEntry] {
        let block = run.blocks[number]
        let corrupt = { [file = layout.file] (detail: String) -> ExtentError in
            .corrupt(file: file, region: .block(number), offset: block.offset, detail: detail)
        }
        var reader = ByteReader(run.bytes[block.offset..<block.offset + block.length])
        let compressedLength = Int(reader.read(UInt32.self)!)
        let uncompressedLength = Int(reader.read(UInt32.self)!)
        let entryCount = Int(reader.read(UInt32.self)!)
        let compressed = run.bytes[(block.offset + ExtentFormat.blockHeaderBytes)..<(block.offset + block.length)]
        try layout.checkCRC(of: compressed, storedAt: block.offset + 12, region: .block(number), offset: block.offset)
        guard compressedLength == compressed.count, uncompressedLength <= ExtentFormat.maxBlockBytes,
            entryCount >= 1, entryCount <= uncompressedLength / (ExtentFormat.entryFixedBytes + 1)
        else {
            throw corrupt(
                "impossible block header: \(compressedLength) compressed bytes (the index gives \(compressed.count)), "
                    + "\(uncompressedLength) uncompressed, \(entryCount) entries")
        }
        let uncompressed: [UInt8]
        switch inflater.inflate(compressed, byteCount: uncompressedLength) {
        case .success(let bytes): uncompressed = bytes
        case .failure(let failure): throw corrupt("the data does not inflate: \(failure.reason)")
        }
        let entries = try decodeEntries(uncompressed, count: entryCount, corrupt: corrupt)
        guard entries[0].key == block.firstKey else { throw corrupt("its first key differs from the index's") }
        return entries
    }

    private mutating func decodeEntries(
        _ uncompressed: [UInt8], count: Int, corrupt: (String) -> ExtentError
    ) throws(ExtentError) -> [ExtentEntry] {
        switch ExtentEntryCoding.decodeBlock(uncompressed[...], count: count, after: &lastKey) {
        case .success(let entries):
            for entry in entries { seen.count(entry) }
            return entries
        case .failure(let defect):
            throw corrupt(defect.detail)
        }
    }

    private func checkTotals() throws(ExtentError) {
        let summary = run.summary
        let declared = ExtentRunTotals(
            entryCount: summary.entryCount, tombstoneCount: summary.tombstoneCount, minSeqno: summary.minSeqno, maxSeqno: summary.maxSeqno)
        guard seen == declared else {
            throw .corrupt(
                file: layout.file, region: .footer, offset: run.bytes.count - ExtentFormat.footerBytes,
                detail: "the blocks hold \(seen), but the footer declares \(declared)")
        }
    }
}

/// Counts and the seqno range of a run's entries: accumulated by the writer, checked by the reader.
struct ExtentRunTotals: Hashable, CustomStringConvertible {
    var entryCount: UInt64 = 0
    var tombstoneCount: UInt64 = 0
    var minSeqno = Seqno.zero
    var maxSeqno = Seqno.zero

    mutating func count(_ entry: ExtentEntry) {
        minSeqno = entryCount == 0 ? entry.seqno : min(minSeqno, entry.seqno)
        maxSeqno = max(maxSeqno, entry.seqno)
        entryCount += 1
        if entry.isTombstone { tombstoneCount += 1 }
    }

    var description: String {
        "\(entryCount) entries, \(tombstoneCount) tombstones, seqnos \(minSeqno)...\(maxSeqno)"
    }
}
