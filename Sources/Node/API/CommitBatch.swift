import Foundation
import Repository
import Tranlog

/// The body of `POST /commit`:
///
///     {"operations": [{"op": "put", "key": "k", "value": "text"},
///                     {"op": "put", "key": "k", "valueBase64": "AAE="},
///                     {"op": "delete", "key": "k"}],
///      "preconditions": [{"key": "k", "absent": true}, {"key": "k", "writtenAt": 12}]}
///
/// Keys are `WireKey`s (a string, or `{"hex": …}`); `preconditions` may be left out. Decoding checks
/// the shape (a put has exactly one of `value`/`valueBase64`, a precondition exactly one of
/// `absent`/`writtenAt`); the repository checks sizes and the preconditions themselves.
public struct CommitBatch: Codable, Sendable {
    public var transaction: Transaction

    public init(_ transaction: Transaction) { self.transaction = transaction }

    private enum CodingKeys: String, CodingKey { case operations, preconditions }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let operations = try container.decode([WireOperation].self, forKey: .operations)
        let preconditions = try container.decodeIfPresent([WirePrecondition].self, forKey: .preconditions) ?? []
        transaction = Transaction(operations: operations.map(\.operation), preconditions: preconditions.map(\.precondition))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(transaction.operations.map(WireOperation.init), forKey: .operations)
        try container.encode(transaction.preconditions.map(WirePrecondition.init), forKey: .preconditions)
    }
}

private struct WireOperation: Codable {
    let operation: Tranlog.Operation

    init(_ operation: Tranlog.Operation) { self.operation = operation }

    private enum CodingKeys: String, CodingKey { case op, key, value, valueBase64 }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let key = try container.decode(WireKey.self, forKey: .key).bytes
        let op = try container.decode(String.self, forKey: .op)
        let text = try container.decodeIfPresent(String.self, forKey: .value)
        let base64 = try container.decodeIfPresent(String.self, forKey: .valueBase64)
        switch op {
        case "put":
            operation = .put(key: key, value: try Self.value(text: text, base64: base64, in: container))
        case "delete":
            guard text == nil && base64 == nil else {
                throw DecodingError.dataCorruptedError(
                    forKey: text == nil ? .valueBase64 : .value, in: container, debugDescription: "a delete takes no value")
            }
            operation = .delete(key: key)
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .op, in: container, debugDescription: "unknown op '\(op)'; expected \"put\" or \"delete\"")
        }
    }

    private static func value(text: String?, base64: String?, in container: KeyedDecodingContainer<CodingKeys>) throws -> [UInt8] {
        switch (text, base64) {
        case (let text?, nil):
            return Array(text.utf8)
        case (nil, let base64?):
            guard let data = Data(base64Encoded: base64) else {
                throw DecodingError.dataCorruptedError(forKey: .valueBase64, in: container, debugDescription: "not valid base64")
            }
            return Array(data)
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .value, in: container, debugDescription: "a put needs exactly one of \"value\" or \"valueBase64\"")
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(WireKey(operation.key), forKey: .key)
        switch operation {
        case .put(_, let value):
            try container.encode("put", forKey: .op)
            if let text = String(validating: value, as: UTF8.self) {
                try container.encode(text, forKey: .value)
            } else {
                try container.encode(Data(value).base64EncodedString(), forKey: .valueBase64)
            }
        case .delete:
            try container.encode("delete", forKey: .op)
        }
    }
}

private struct WirePrecondition: Codable {
    let precondition: Precondition

    init(_ precondition: Precondition) { self.precondition = precondition }

    private enum CodingKeys: String, CodingKey { case key, absent, writtenAt }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let key = try container.decode(WireKey.self, forKey: .key).bytes
        switch (try container.decodeIfPresent(Bool.self, forKey: .absent),
                try container.decodeIfPresent(UInt64.self, forKey: .writtenAt)) {
        case (true, nil):
            precondition = Precondition(key: key, expectation: .absent)
        case (nil, let seqno?):
            precondition = Precondition(key: key, expectation: .writtenAt(Seqno(seqno)))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .absent, in: container,
                debugDescription: "a precondition needs exactly one of \"absent\": true or \"writtenAt\": SEQNO")
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(WireKey(precondition.key), forKey: .key)
        switch precondition.expectation {
        case .absent: try container.encode(true, forKey: .absent)
        case .writtenAt(let seqno): try container.encode(seqno.rawValue, forKey: .writtenAt)
        }
    }
}
