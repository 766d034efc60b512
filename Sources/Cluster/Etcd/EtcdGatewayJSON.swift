import Foundation

/// The messages of etcd's v3 JSON gateway (grpc-gateway over etcd's protobufs): field names as in the
/// .proto files, keys and values base64, 64-bit integers as JSON strings (accepted both ways).
enum EtcdGatewayJSON {
    /// A 64-bit integer the gateway sends as a string ("revision":"2"); absent means 0 (proto3).
    struct Int64Text: Codable, Sendable {
        var value: Int64

        init(_ value: Int64) { self.value = value }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int64.self) {
                value = number
            } else {
                let text = try container.decode(String.self)
                guard let number = Int64(text) else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a 64-bit integer")
                }
                value = number
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(String(value))
        }
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// The key just after every key that starts with `prefix`: etcd's `range_end` for a prefix.
    static func prefixEnd(_ prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return Data(bytes).base64EncodedString()
            }
            bytes.removeLast()
        }
        return Data([0]).base64EncodedString()  // every key
    }

    // MARK: - Requests

    struct RangeRequest: Encodable {
        var key: String
        var range_end: String?
    }

    struct PutRequest: Encodable {
        var key: String
        var value: String
        var lease: Int64Text?
    }

    struct DeleteRangeRequest: Encodable {
        var key: String
    }

    struct Compare: Encodable {
        var key: String
        var target: String
        var result = "EQUAL"
        var create_revision: Int64Text?
        var mod_revision: Int64Text?
    }

    struct RequestOp: Encodable {
        var request_range: RangeRequest?
        var request_put: PutRequest?
        var request_delete_range: DeleteRangeRequest?
    }

    struct TxnRequest: Encodable {
        var compare: [Compare]
        var success: [RequestOp]
        var failure: [RequestOp]
    }

    struct LeaseRequest: Encodable {
        var ID: Int64Text
        var TTL: Int64Text?
    }

    // MARK: - Responses

    struct Header: Decodable {
        var revision: Int64Text?
    }

    struct KeyValue: Decodable {
        var key: String
        var value: String?
        var create_revision: Int64Text?
        var mod_revision: Int64Text?
        var lease: Int64Text?
    }

    struct RangeResponse: Decodable {
        var header: Header?
        var kvs: [KeyValue]?
    }

    struct PutResponse: Decodable {
        var header: Header?
    }

    struct DeleteRangeResponse: Decodable {
        var deleted: Int64Text?
    }

    struct ResponseOp: Decodable {
        var response_range: RangeResponse?
    }

    struct TxnResponse: Decodable {
        var header: Header?
        var succeeded: Bool?
        var responses: [ResponseOp]?
    }

    struct LeaseResponse: Decodable {
        var ID: Int64Text?
        var TTL: Int64Text?
    }

    /// TTL -1: the lease is gone.
    struct LeaseTimeToLive: Decodable {
        var TTL: Int64Text?
        var grantedTTL: Int64Text?
    }

    /// A stream's one message: `{"result": …}` or `{"error": {…}}`.
    struct StreamMessage<Result: Decodable>: Decodable {
        var result: Result?
        var error: StreamError?
    }

    struct StreamError: Decodable {
        var grpc_code: Int?
        var http_code: Int?
        var message: String?
    }

    /// The body of an HTTP error answer.
    struct ErrorBody: Decodable {
        var error: String?
        var message: String?
        var code: Int?
    }
}
