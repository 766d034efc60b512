import Repository
import SystemPackage
import Tranlog

/// Which records `list` prints. A single record (`--seqno`, `--event`, `--time`) is found by
/// `RecordSearch`, as `tranlog find` does; a range is read from the log's first record, so the
/// chain is checked up to the records shown, and reading stops past its end.
enum RecordSelection {
    case range(from: Seqno?, to: Seqno?)
    case one(RecordKey)

    enum Decision {
        case skip
        case show
        /// Past everything that could match.
        case stop
    }

    static func decide(_ record: TranlogRecord, from: Seqno?, to: Seqno?) -> Decision {
        if let to, record.seqno > to { return .stop }
        if let from, record.seqno < from { return .skip }
        return .show
    }
}

/// The record `key` names in the tranlog directory at `path`; not found is an error that says what
/// the directory holds instead.
func findRecord(_ key: RecordKey, inTranlogDirectory path: String) throws -> TranlogRecord {
    let logs = try TranlogDirectory.scan(FilePath(path))
    guard !logs.files.isEmpty else { throw TranlogError.noLogs(directory: path) }
    switch try RecordSearch.find(key, in: logs) {
    case .success(let record): return record
    case .failure(let notFound): throw CommandError(notFound.description)
    }
}
