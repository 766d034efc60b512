import Tranlog

/// The entry layout inside an uncompressed block (see the format in ExtentRunWriter.swift).
enum ExtentEntryCoding {
    static func encode(_ entry: ExtentEntry, into writer: inout ByteWriter) {
        writer.append(UInt16(entry.key.count))
        writer.append((entry.isTombstone ? ExtentFormat.Kind.tombstone : .value).rawValue)
        writer.append(entry.seqno.rawValue)
        writer.append(UInt32(entry.value?.count ?? 0))
        writer.append(contentsOf: entry.key)
        if let value = entry.value { writer.append(contentsOf: value) }
    }

    /// Decodes the next entry, refusing lengths past `TranlogLimits` before reading any bytes.
    static func decode(from reader: inout ByteReader) -> Result<ExtentEntry, ExtentDefect> {
        guard let keyLength = reader.read(UInt16.self), let kindByte = reader.read(UInt8.self),
            let seqno = reader.read(UInt64.self), let valueLength = reader.read(UInt32.self)
        else { return .failure(ExtentDefect("the block ends inside an entry header")) }
        guard (1...TranlogLimits.maxKeyBytes).contains(Int(keyLength)) else {
            return .failure(ExtentDefect("key length \(keyLength) is outside 1...\(TranlogLimits.maxKeyBytes)"))
        }
        guard let kind = ExtentFormat.Kind(rawValue: kindByte) else { return .failure(ExtentDefect("unknown entry kind \(kindByte)")) }
        guard Int(valueLength) <= TranlogLimits.maxValueBytes, kind == .value || valueLength == 0 else {
            return .failure(ExtentDefect("value length \(valueLength) is impossible for a \(kind) entry"))
        }
        guard let key = reader.readBytes(Int(keyLength)), let value = reader.readBytes(Int(valueLength)) else {
            return .failure(ExtentDefect("the block ends inside an entry's key or value"))
        }
        return .success(ExtentEntry(key: Array(key), value: kind == .value ? Array(value) : nil, seqno: Seqno(seqno)))
    }

    /// Decodes a block's `count` entries, each after the one before it (and after `lastKey`, the
    /// previous block's last) in byte order, as a run and a backup keep them; `check` refuses an
    /// entry by a rule of the caller's. The first defect names the entry.
    static func decodeBlock(
        _ bytes: ArraySlice<UInt8>, count: Int, after lastKey: inout [UInt8]?, check: (ExtentEntry) -> String? = { _ in nil }
    ) -> Result<[ExtentEntry], ExtentDefect> {
        var reader = ByteReader(bytes)
        var entries: [ExtentEntry] = []
        entries.reserveCapacity(count)
        for number in 0..<count {
            let entry: ExtentEntry
            switch decode(from: &reader) {
            case .success(let decoded): entry = decoded
            case .failure(let defect): return .failure(ExtentDefect("entry \(number): \(defect.detail)"))
            }
            if let refusal = check(entry) { return .failure(ExtentDefect("entry \(number) \(refusal)")) }
            guard lastKey.map({ $0.lexicographicallyPrecedes(entry.key) }) ?? true else {
                return .failure(ExtentDefect("entry \(number): key \(KeyText.display(entry.key)) is not after the previous key (unsorted or duplicate)"))
            }
            lastKey = entry.key
            entries.append(entry)
        }
        guard reader.isAtEnd else { return .failure(ExtentDefect("bytes remain after its \(count) entries")) }
        return .success(entries)
    }
}
