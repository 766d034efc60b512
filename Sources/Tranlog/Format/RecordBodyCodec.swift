/// Encodes and decodes record payloads. Layouts (all integers little-endian) are in docs/FORMATS.md.
enum RecordBodyCodec {
    static func encode(_ body: RecordBody, into writer: inout ByteWriter) {
        switch body {
        case .commit(let operations):
            writer.append(UInt32(operations.count))
            for operation in operations { encode(operation, into: &writer) }
        case .checkpoint(let info):
            writer.append(info.extentGeneration)
            writer.append(info.oldestFileIDNeeded.rawValue)
        case .epochBegin(let info):
            writer.append(info.epoch.rawValue)
            writer.append(info.parentEpoch.rawValue)
            writer.append(info.forkSeqno.rawValue)
        case .backupStart(let label), .backupEnd(let label):
            writer.append(UInt16(label.utf8.count))
            writer.append(contentsOf: label.utf8)
        case .shutdown, .fileEnd:
            break
        }
    }

    static func encodedSize(_ body: RecordBody) -> Int {
        switch body {
        case .commit(let operations):
            return 4 + operations.reduce(0) { total, operation in
                switch operation {
                case .put(let key, let value): total + 1 + 2 + key.count + 4 + value.count
                case .delete(let key): total + 1 + 2 + key.count
                }
            }
        case .checkpoint: return 16
        case .epochBegin: return 24
        case .backupStart(let label), .backupEnd(let label): return 2 + label.utf8.count
        case .shutdown, .fileEnd: return 0
        }
    }

    private static func encode(_ operation: Operation, into writer: inout ByteWriter) {
        switch operation {
        case .put(let key, let value):
            writer.append(Operation.Tag.put.rawValue)
            writer.append(UInt16(key.count))
            writer.append(contentsOf: key)
            writer.append(UInt32(value.count))
            writer.append(contentsOf: value)
        case .delete(let key):
            writer.append(Operation.Tag.delete.rawValue)
            writer.append(UInt16(key.count))
            writer.append(contentsOf: key)
        }
    }

    /// Decodes a payload; the error string says which field was wrong.
    static func decode(kind: RecordKind, payload: ArraySlice<UInt8>) -> Result<RecordBody, PayloadError> {
        var reader = ByteReader(payload)
        let body: RecordBody
        do {
            switch kind {
            case .commit:
                var operations: [Operation] = []
                try readCommit(&reader, reserve: { operations.reserveCapacity($0) }) { key, value in
                    operations.append(value.map { .put(key: Array(key), value: Array($0)) } ?? .delete(key: Array(key)))
                }
                return .success(.commit(operations))
            case .checkpoint:
                body = .checkpoint(
                    CheckpointInfo(
                        extentGeneration: try field(reader.read(), "extent generation"),
                        oldestFileIDNeeded: FileID(try field(reader.read(), "oldest fileId needed"))))
            case .epochBegin:
                body = .epochBegin(
                    EpochBeginInfo(
                        epoch: Epoch(try field(reader.read(), "epoch")),
                        parentEpoch: Epoch(try field(reader.read(), "parent epoch")),
                        forkSeqno: Seqno(try field(reader.read(), "fork seqno"))))
            case .backupStart: body = .backupStart(label: try decodeLabel(&reader))
            case .backupEnd: body = .backupEnd(label: try decodeLabel(&reader))
            case .shutdown: body = .shutdown
            case .fileEnd: body = .fileEnd
            }
        } catch {
            return .failure(error)
        }
        if let trailing = unexpectedBytes(reader, after: kind) { return .failure(trailing) }
        if let problem = body.limitViolation { return .failure(PayloadError(problem)) }
        return .success(body)
    }

    private static func unexpectedBytes(_ reader: ByteReader, after kind: RecordKind) -> PayloadError? {
        reader.isAtEnd ? nil : PayloadError("\(reader.remaining) unexpected bytes after the \(kind) payload")
    }

    /// Reads a commit payload: each operation's key and, for a put, value are handed to `body` in
    /// order as they are read, within the limits, and the payload must end with the last. The one
    /// reading of a commit, whether its operations become `Operation`s (`decode`) or a standby's
    /// writes directly (`FrameBodyDecoder.decodeCommit`). `reserve` hears the operation count first.
    static func readCommit(
        _ reader: inout ByteReader, reserve: (Int) -> Void = { _ in }, _ body: (_ key: ArraySlice<UInt8>, _ value: ArraySlice<UInt8>?) -> Void
    ) throws(PayloadError) {
        let count: UInt32 = try field(reader.read(), "operation count")
        // Each operation takes at least 4 bytes: a count beyond that is corrupt, not a reason to allocate.
        guard Int(count) <= reader.remaining / 4 else {
            throw PayloadError("operation count \(count) does not fit in \(reader.remaining) bytes")
        }
        reserve(Int(count))
        for index in 0..<Int(count) {
            let tagByte: UInt8 = try field(reader.read(), "operation \(index) tag")
            let keyLength: UInt16 = try field(reader.read(), "operation \(index) key length")
            let key = try field(reader.readBytes(Int(keyLength)), "operation \(index) key")
            let value: ArraySlice<UInt8>?
            switch Operation.Tag(rawValue: tagByte) {
            case .put:
                let valueLength: UInt32 = try field(reader.read(), "operation \(index) value length")
                value = try field(reader.readBytes(Int(valueLength)), "operation \(index) value")
            case .delete:
                value = nil
            case nil:
                throw PayloadError("operation \(index) has unknown tag \(tagByte)")
            }
            if let problem = Operation.limitViolation(ofOperation: index, keyBytes: key.count, valueBytes: value?.count) {
                throw PayloadError(problem)
            }
            body(key, value)
        }
        if let trailing = unexpectedBytes(reader, after: .commit) { throw trailing }
        guard count > 0 else { throw PayloadError(RecordBody.emptyCommit) }
    }

    private static func decodeLabel(_ reader: inout ByteReader) throws(PayloadError) -> String {
        let length: UInt16 = try field(reader.read(), "label length")
        let bytes = try field(reader.readBytes(Int(length)), "label")
        guard let label = String(validating: bytes, as: UTF8.self) else {
            throw PayloadError("label is not UTF-8")
        }
        return label
    }

    /// The name is built only for the error: a commit's operations are decoded per record.
    private static func field<Value>(_ value: Value?, _ name: @autoclosure () -> String) throws(PayloadError) -> Value {
        guard let value else { throw PayloadError("payload ends inside the \(name())") }
        return value
    }
}

/// Why a payload could not be decoded; the reader wraps it with the file, offset and seqno.
struct PayloadError: Error, Equatable {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
