import Repository
import Tranlog

/// How `list` prints a record: Tungsten's `thl list` form, one tab-separated header line, or JSON.
enum RecordRendering {
    /// Tungsten's multi-line form, with one line per operation of a commit.
    static func tungsten(_ record: TranlogRecord) -> String {
        (headerBlock(RecordHeaders(record)) + bodyLines(record.body)).joined(separator: "\n")
    }

    /// The header lines of Tungsten's form (`thl list -headers` without the body): what `list`
    /// prints above the operations and `find` prints with the CRC.
    static func headerBlock(_ headers: RecordHeaders) -> [String] {
        [
            "SEQ# = \(headers.seqno) / FRAG# = 0 (last frag)",
            "- FILE = \(headers.eventID.fileID.fileName)",
            "- TIME = \(headers.time.iso8601)",
            "- EPOCH# = \(headers.epoch)",
            "- EVENTID = \(headers.eventID)",
            "- SOURCEID = \(headers.sourceID)",
            "- KIND = \(headers.kind)",
        ]
    }

    /// seqno, epoch, time, event id, source id, kind, operation count, file, CRC, frame bytes:
    /// `cut`- and `awk`-friendly, one line per record and no line of column names (so `wc -l` counts
    /// records). New columns go at the end, so scripts' column numbers stay true.
    static func headerLine(_ record: TranlogRecord) -> String {
        let header = record.header
        return [
            "\(header.seqno)", "\(header.epoch)", header.time.iso8601, "\(record.eventID)", "\(header.sourceID)",
            "\(header.kind)", "\(operations(record.body).count)", record.eventID.fileID.fileName, hex(record.crc), "\(record.frameLength)",
        ].joined(separator: "\t")
    }

    static func json(_ record: TranlogRecord) throws -> String {
        try jsonLine(RecordJSON(record))
    }

    static func operations(_ body: RecordBody) -> [Operation] {
        if case .commit(let operations) = body { return operations }
        return []
    }

    private static func bodyLines(_ body: RecordBody) -> [String] {
        switch body {
        case .commit(let operations):
            return operations.map(operationLine)
        case .checkpoint(let info):
            return ["- CHECKPOINT = extent generation \(info.extentGeneration), oldest fileId needed \(info.oldestFileIDNeeded)"]
        case .epochBegin(let info):
            return ["- EPOCH BEGIN = epoch \(info.epoch), parent epoch \(info.parentEpoch), fork seqno \(info.forkSeqno)"]
        case .backupStart(let label), .backupEnd(let label):
            return ["- LABEL = \(label)"]
        case .shutdown, .fileEnd:
            return []
        }
    }

    private static func operationLine(_ operation: Operation) -> String {
        switch operation {
        case .put(let key, let value): "- PUT key=\(renderKey(key)) (\(value.count) bytes)"
        case .delete(let key): "- DELETE key=\(renderKey(key))"
        }
    }
}

/// One record as a JSON object. Keys use `renderKey` (text, or `0x` + hex); values are sized, not
/// printed, as in the text form.
private struct RecordJSON: Encodable {
    struct OperationJSON: Encodable {
        var op: String
        var key: String
        var valueBytes: Int?
    }

    struct CheckpointJSON: Encodable {
        var extentGeneration: UInt64
        var oldestFileIDNeeded: UInt64
    }

    struct EpochBeginJSON: Encodable {
        var epoch: UInt64
        var parentEpoch: UInt64
        var forkSeqno: UInt64
    }

    var seqno: UInt64
    var epoch: UInt64
    var time: String
    var eventID: String
    var file: String
    var sourceID: String
    var kind: String
    var operations: [OperationJSON]?
    var checkpoint: CheckpointJSON?
    var epochBegin: EpochBeginJSON?
    var label: String?

    init(_ record: TranlogRecord) {
        let header = record.header
        seqno = header.seqno.rawValue
        epoch = header.epoch.rawValue
        time = header.time.iso8601
        eventID = record.eventID.description
        file = record.eventID.fileID.fileName
        sourceID = header.sourceID.name
        kind = header.kind.description
        switch record.body {
        case .commit(let commit):
            operations = commit.map(Self.operation)
        case .checkpoint(let info):
            checkpoint = CheckpointJSON(extentGeneration: info.extentGeneration, oldestFileIDNeeded: info.oldestFileIDNeeded.rawValue)
        case .epochBegin(let info):
            epochBegin = EpochBeginJSON(epoch: info.epoch.rawValue, parentEpoch: info.parentEpoch.rawValue, forkSeqno: info.forkSeqno.rawValue)
        case .backupStart(let text), .backupEnd(let text):
            label = text
        case .shutdown, .fileEnd:
            break
        }
    }

    private static func operation(_ operation: Operation) -> OperationJSON {
        switch operation {
        case .put(let key, let value): OperationJSON(op: "put", key: renderKey(key), valueBytes: value.count)
        case .delete(let key): OperationJSON(op: "delete", key: renderKey(key))
        }
    }
}
