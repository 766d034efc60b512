import Foundation
import Node
import Repository
import Testing
import Tranlog

@Suite("POST /commit")
struct CommitAPITests {
    @Test("a batch applies atomically; a failed precondition is 409 naming the key and applies nothing")
    func batchWithPreconditions() throws {
        try withNode { fixture in
            let client = fixture.client
            let committed = try client.commit(json: .init("""
                {"operations": [{"op": "put", "key": "x", "value": "text"},
                                {"op": "put", "key": "y", "valueBase64": "AAH/"},
                                {"op": "delete", "key": "nothing"}],
                 "preconditions": [{"key": "x", "absent": true}]}
                """))
            #expect(try client.get(key: .init("x")) == FetchedObject(value: .init("text"), seqno: committed.seqno))
            #expect(try client.get(key: .init("y"))?.value == [0x00, 0x01, 0xFF])

            let conflict = try fixture.send("POST", "/commit", body: """
                {"operations": [{"op": "put", "key": "z", "value": "1"}, {"op": "delete", "key": "y"}],
                 "preconditions": [{"key": "y", "writtenAt": \(committed.seqno.rawValue)}, {"key": "x", "absent": true}]}
                """)
            #expect(conflict.status == 409)
            #expect(conflict.text.contains("'x'"), "\(conflict.text)")
            #expect(try client.get(key: .init("z")) == nil)
            #expect(try client.get(key: .init("y")) != nil)

            let batch = CommitBatch(Transaction(
                operations: [.put(key: .init("z"), value: [0xC3]), .delete(key: .init("x"))],
                preconditions: [Precondition(key: .init("y"), expectation: .writtenAt(committed.seqno))]))
            let second = try client.commit(batch)
            #expect(second.seqno > committed.seqno)
            #expect(try client.get(key: .init("z"))?.value == [0xC3])
            #expect(try client.get(key: .init("x")) == nil)
        }
    }

    @Test("bad batches are 400 naming the field or position", arguments: [
        ("{\"operations\": [", "not valid JSON: "),
        ("{\"operations\": [}", "around character"),
        ("{}", "operations: required field is missing"),
        ("{\"operations\": [{\"op\": \"put\", \"key\": \"k\"}]}", "operations[0]"),
        ("{\"operations\": [{\"op\": \"frob\", \"key\": \"k\"}]}", "operations[0].op: unknown op 'frob'"),
        ("{\"operations\": [{\"op\": \"put\", \"key\": \"k\", \"valueBase64\": \"@@\"}]}", "operations[0].valueBase64: not valid base64"),
        ("{\"operations\": [{\"op\": \"delete\", \"key\": 7}]}", "operations[0].key"),
        ("{\"operations\": [{\"op\": \"delete\", \"key\": \"k\"}], \"preconditions\": [{\"key\": \"k\"}]}", "preconditions[0]"),
        ("{\"operations\": []}", "at least one operation"),
        ("{\"operations\": [{\"op\": \"delete\", \"key\": \"\"}]}", "empty key"),
    ])
    func badBatches(body: String, expected: String) throws {
        try withNode { fixture in
            let response = try fixture.send("POST", "/commit", body: body)
            #expect(response.status == 400)
            #expect(response.text.contains(expected), "\(response.text)")
            #expect(try fixture.client.list().keys.isEmpty)
        }
    }
}
