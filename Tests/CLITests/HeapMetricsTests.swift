import Foundation
import Testing

@Suite("The node's heap gauges, from the allocator it runs on")
struct HeapMetricsTests {
    /// With any other malloc in front of jemalloc's, jemalloc would count only what it allocated
    /// itself (next to nothing), and the gauge would stay far below the values the node holds.
    @Test("understudy_heap_allocated_bytes counts the objects a real node holds: jemalloc is its allocator")
    func heapGaugesCountWhatTheNodeHolds() throws {
        try withTemporaryDirectory { directory in
            let data = directory.appendingPathComponent("data")
            let created = try CLIProcess.run(["init", "--data", data.path, "--source-id", "heap-test"], in: directory)
            try #require(created.status == 0, "\(created.standardError)")
            let node = try ServerProcess(data: data, in: directory)
            defer { node.cleanUp() }
            let valueBytes = 1 << 20
            let held = 24 * valueBytes
            try StandbyCommandTests.client(node.url) { client in
                for index in 0..<24 { _ = try client.put(key: Array("big-\(index)".utf8), value: [UInt8](repeating: UInt8(index), count: valueBytes)) }
            }
            let metrics = try StandbyCommandTests.client(node.url) { try $0.metrics() }
            let allocated = try #require(Self.gauge("understudy_heap_allocated_bytes", in: metrics), "\(metrics)")
            let resident = try #require(Self.gauge("understudy_heap_resident_bytes", in: metrics), "\(metrics)")
            #expect(allocated >= Double(held), "the table alone holds \(held) bytes of values")
            #expect(resident >= allocated, "allocations are backed by resident pages")
        }
    }

    static func gauge(_ name: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }
}
