import Foundation
import Node
import Testing

@Suite("A primary started with --compress ships gzip-compressed batches, with real processes")
struct CompressedStreamTests {
    @Test("the standby converges on every key, and the primary reports a compression ratio above 1 in status and metrics")
    func compressedStreamConverges() throws {
        try withTemporaryDirectory { directory in
            let pair = try StandbyCommandTests.Pair(in: directory, keys: [:], primaryArguments: ["--compress"])
            defer { pair.cleanUp() }
            let standby = try pair.startStandby()
            defer { standby.cleanUp() }
            // Repetitive values, as real records often are: worth compressing.
            let keys = Dictionary(uniqueKeysWithValues: (0..<300).map { ("key-\($0)", String(repeating: "value \($0 % 7) ", count: 40)) })
            try StandbyCommandTests.put(keys, on: pair.primary.url)

            let target = try StandbyCommandTests.client(pair.primary.url) { try $0.status().repository.applied.seqno }
            _ = try StandbyCommandTests.waitForStatus(of: standby) { $0.repository.applied.seqno == target }
            try StandbyCommandTests.client(standby.url) { client in
                for (key, value) in keys {
                    let object = try client.get(key: Array(key.utf8))
                    #expect(object?.value == Array(value.utf8), "\(key)")
                }
            }
            let row = try #require(try StandbyCommandTests.client(pair.primary.url) { try $0.status() }.standbys?.first)
            #expect(row.compressionRatio > 1, "\(row)")
            let metrics = try StandbyCommandTests.client(pair.primary.url) { try $0.metrics() }
            #expect(metrics.contains("understudy_standby_compression_ratio"), "\(metrics)")
        }
    }
}
