import Tranlog

/// Finds one record in a tranlog directory (`tranlog find`, `tranlog list --seqno/--event/--time`,
/// `GET /tranlog/find`, and `position set` checking a position against the local logs).
///
/// The logs are read from their first record through `TranlogCursor`, so every chain check applies
/// up to the record found: damage or a missing file on the way is thrown as the `TranlogError` it is,
/// never reported as "not found".
public enum RecordSearch {
    public static func find(
        _ key: RecordKey, in logs: TranlogDirectory, fileSystem: any TranlogFileSystem = PosixFileSystem(),
        expectedRepository: RepositoryID? = nil
    ) throws(TranlogError) -> Result<TranlogRecord, RecordNotFound> {
        var cursor = TranlogCursor(directory: logs, fileSystem: fileSystem, expectedRepository: expectedRepository)
        var span = LogSpan()
        var before: RecordHeaders?
        searching: while let record = try cursor.next() {
            span.count(record)
            switch key.match(record) {
            case .found: return .success(record)
            case .before: before = RecordHeaders(record)
            case .past: break searching
            }
        }
        // Read on to the end, so the answer says what the logs hold and damage further on is not hidden.
        while let record = try cursor.next() { span.count(record) }
        return .failure(RecordNotFound(key: key, directory: logs.description, files: logs.files.map(\.fileID), span: span, recordBefore: before, tornTail: cursor.tornTail))
    }
}

/// What a run of tranlogs holds: the first and last records read.
public struct LogSpan: Hashable, Sendable, Codable {
    public private(set) var records = 0
    public private(set) var firstSeqno: Seqno?
    public private(set) var last: RecordHeaders?

    public init() {}

    public mutating func count(_ record: TranlogRecord) {
        records += 1
        if firstSeqno == nil { firstSeqno = record.seqno }
        last = RecordHeaders(record)
    }

    /// `1001…5234`, or nil before the first record.
    public var seqnoRange: String? {
        guard let firstSeqno, let last else { return nil }
        return "\(firstSeqno)…\(last.seqno)"
    }
}

/// No record matches: says what the logs hold instead, with the files, so the operator knows which
/// logs to fetch (Tungsten's "thl list" answers nothing; here the answer is the range).
public struct RecordNotFound: Error, Hashable, Sendable, CustomStringConvertible {
    public var key: RecordKey
    public var directory: String
    public var files: [FileID]
    public var span: LogSpan
    /// For an event id: the last record starting before it.
    public var recordBefore: RecordHeaders?
    public var tornTail: TornTail?

    public var description: String {
        "\(what) the tranlogs in \(directory): \(held)" + (tornTail.map { "; the newest file ends in a \($0)" } ?? "")
    }

    private var what: String {
        switch key {
        case .seqno(let seqno):
            return "seqno \(seqno) is not in"
        case .event(let eventID):
            let before = recordBefore.map { " (the record before it starts at \($0.eventID))" } ?? ""
            return "no record starts at \(eventID)\(before) in"
        case .time(let time):
            return "no record was written at or after \(time.iso8601) in"
        }
    }

    private var held: String {
        guard let first = files.first, let lastFile = files.last else { return "there are no tranlog files" }
        let names = first == lastFile ? first.fileName : "\(first.fileName)…\(lastFile.fileName)"
        guard let range = span.seqnoRange, let last = span.last else { return "they hold no records (\(names))" }
        return "they hold \(range) (\(names)), the last written at \(last.time.iso8601)"
    }
}
