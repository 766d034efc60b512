import Foundation
import Node
import Repository
import Testing
import Tranlog
import UnderstudyTesting

@Suite("Base copy with real processes: an empty standby copies its primary's base, then streams")
struct BaseCopyTests {
    static let keyCount = 3000

    /// A primary with `keyCount` keys written in batches, checkpointed twice along the way.
    struct Primary {
        let directory: URL
        let data: URL
        var process: ServerProcess
        let values: [String: [UInt8]]

        init(in directory: URL, environment: [String: String] = [:]) throws {
            self.directory = directory
            data = directory.appendingPathComponent("primary")
            try writeSecret("primary-and-standby-share-this-key\n", to: directory.appendingPathComponent("key"))
            try writeSecret("this-is-not-the-primary-key", to: directory.appendingPathComponent("wrong"))
            let initialized = try CLIProcess.run(["init", "--data", data.path, "--source-id", "primary"], in: directory)
            #expect(initialized.status == 0, "\(initialized.standardError)")
            process = try Self.start(data, replication: "127.0.0.1:0", in: directory, environment: environment)
            values = Self.values(seed: testSeed())
            try load()
        }

        /// Test-only knobs slowing the primary's sending, so a copy is surely under way when the test acts.
        static let slowCopy = [
            "UNDERSTUDY_TEST_BASE_COPY_CHUNK_BYTES": "2048", "UNDERSTUDY_TEST_BASE_COPY_CHUNK_DELAY_MS": "50",
            "UNDERSTUDY_TEST_BASE_COPY_RESUME_WINDOW_MS": "500",
        ]

        static func start(_ data: URL, replication: String, in directory: URL, environment: [String: String] = [:]) throws -> ServerProcess {
            try ServerProcess([
                "start", "--data", data.path, "--http", "127.0.0.1:0", "--replication", replication,
                "--replication-key-file", directory.appendingPathComponent("key").path,
            ], in: directory, environment: environment)
        }

        /// Values that gzip cannot shrink much, so the backup has some size.
        static func values(seed: UInt64) -> [String: [UInt8]] {
            var generator = seed | 1
            return Dictionary(uniqueKeysWithValues: (0..<keyCount).map { index in
                let value = (0..<160).map { _ -> UInt8 in
                    generator ^= generator << 13
                    generator ^= generator >> 7
                    generator ^= generator << 17
                    return UInt8(truncatingIfNeeded: generator)
                }
                return (String(format: "key-%05d", index), value)
            })
        }

        private func load() throws {
            let token = try String(contentsOf: data.appendingPathComponent("admin.token"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            try StandbyCommandTests.client(process.url) { client in
                for (number, batch) in values.sorted(by: { $0.key < $1.key }).chunked(into: 100).enumerated() {
                    _ = try client.commit(CommitBatch(Transaction(operations: batch.map { .put(key: Array($0.key.utf8), value: $0.value) })))
                    if number % 10 == 9 { _ = try client.checkpoint(token: token) }
                }
            }
        }

        var replication: String { process.fields["replication"] ?? "?" }

        func standbyArguments(_ standbyData: URL, keyFile: String = "key") -> [String] {
            [
                "standby", "--data", standbyData.path, "--primary", replication,
                "--replication-key-file", directory.appendingPathComponent(keyFile).path, "--http", "127.0.0.1:0",
            ]
        }
    }

    @Test("an empty standby converges to every key of the primary, then keeps streaming new commits")
    func copiesAndStreams() throws {
        try withTemporaryDirectory { directory in
            let primary = try Primary(in: directory)
            defer { primary.process.cleanUp() }
            let standbyData = directory.appendingPathComponent("standby")
            try FileManager.default.createDirectory(at: standbyData, withIntermediateDirectories: false)  // empty is as good as missing
            let standby = try ServerProcess(primary.standbyArguments(standbyData), in: directory)
            defer { standby.cleanUp() }

            try Self.expectSameContent(standby, primary)
            let later = Dictionary(uniqueKeysWithValues: (0..<20).map { ("later-\($0)", "after the copy \($0)") })
            try StandbyCommandTests.put(later, on: primary.process.url)
            try Self.expectSameContent(standby, primary)

            let status = try StandbyCommandTests.client(standby.url) { try $0.status() }
            #expect(status.role == "standby")
            let baseCopy = try #require(status.baseCopy)
            #expect(baseCopy.state == .done)
            #expect(baseCopy.attempts == 1)
            #expect(baseCopy.total == baseCopy.bytes)
            #expect((baseCopy.total ?? 0) > 100_000)
            let primaryConfig = try DataDirectory(.init(primary.data.path)).readConfig()
            let standbyConfig = try DataDirectory(.init(standbyData.path)).readConfig()
            #expect(standbyConfig.repositoryID == primaryConfig.repositoryID)
            #expect(standbyConfig.sourceID != primaryConfig.sourceID)
            #expect(!FileManager.default.fileExists(atPath: standbyData.path + ".base-copy-in-progress"))
            #expect(standby.log.contains("base copy: "), "no progress line:\n\(standby.log)")
            // Nothing was staged on the primary, and its pin is gone: checkpoints run again.
            #expect(!FileManager.default.fileExists(atPath: primary.data.appendingPathComponent("base-copy").path))
            try Self.expectPinReleased(primary)
            // Promoted, it is no standby any more: the base copy that made it is history.
            _ = try StandbyCommandTests.client(standby.url) { try $0.promote(token: try AdminToken.read(DataDirectory(.init(standbyData.path)))) }
            let promoted = try StandbyCommandTests.client(standby.url) { try $0.status() }
            #expect(promoted.role == "primary" && promoted.baseCopy == nil)
            #expect(standby.stop(with: SIGTERM) == 0)
        }
    }

    @Test("a standby with the wrong key is refused and leaves no directory behind")
    func wrongKey() throws {
        try withTemporaryDirectory { directory in
            let primary = try Primary(in: directory)
            defer { primary.process.cleanUp() }
            let standbyData = directory.appendingPathComponent("standby")
            let result = try CLIProcess.run(primary.standbyArguments(standbyData, keyFile: "wrong"), in: directory)
            #expect(result.status != 0)
            #expect(result.standardError.contains("replication key"), "\(result.standardError)")
            Self.expectNothingLeft(at: standbyData)
        }
    }

    @Test("a primary killed mid-copy: the standby reports it, leaves no half directory, and succeeds once the primary is back")
    func primaryKilledMidCopy() throws {
        try withTemporaryDirectory { directory in
            var primary = try Primary(in: directory, environment: Primary.slowCopy)
            defer { primary.process.cleanUp() }
            let standbyData = directory.appendingPathComponent("standby")
            let standby = try ServerProcess(primary.standbyArguments(standbyData), in: directory, awaitReady: false)
            defer { standby.cleanUp() }
            try Self.waitForLog(of: standby, containing: "base copy started")
            let statusURL = try #require(Self.statusServer(in: standby.log), "no status server in the log:\n\(standby.log)")
            let copying = try Self.phaseStatus(statusURL)
            #expect(copying.role == "standby")
            #expect(copying.baseCopy.state == .copying)
            #expect((copying.baseCopy.total ?? 0) > copying.baseCopy.bytes)
            #expect(try StandbyCommandTests.client(statusURL) { try $0.send(method: "GET", path: "/objects/key-00001").status } == 503)
            let printed = try CLIProcess.run(["status", "--node", statusURL, "--json"], in: directory)
            #expect(printed.status == 0, "\(printed.standardError)")
            #expect(try JSONDecoder().decode(BaseCopyPhaseStatus.self, from: Data(printed.standardOutput.utf8)).role == "standby")
            let primaryStatus = try StandbyCommandTests.client(primary.process.url) { try $0.status() }
            #expect(primaryStatus.standbys?.map(\.state) == ["sendingBaseCopy"])
            // Mid-copy, nothing is staged on the primary: its files are read in place.
            #expect(!FileManager.default.fileExists(atPath: primary.data.appendingPathComponent("base-copy").path))

            primary.process.stop(with: SIGKILL)
            try Self.waitForLog(of: standby, containing: "the base copy was interrupted")
            #expect(try Self.phaseStatus(statusURL).baseCopy.lastError?.contains("interrupted") == true)
            #expect(!FileManager.default.fileExists(atPath: standbyData.path))
            #expect(!FileManager.default.fileExists(atPath: standbyData.appendingPathComponent("understudy.json").path))

            primary.process = try Primary.start(primary.data, replication: primary.replication, in: directory)
            try standby.awaitReady()
            #expect(standby.url == statusURL, "the node serves on the port its status server had")
            try Self.expectSameContent(standby, primary)
            let status = try StandbyCommandTests.client(standby.url) { try $0.status() }
            #expect((status.baseCopy?.attempts ?? 0) >= 2)
            #expect(status.baseCopy?.lastError?.contains("interrupted") == true, "\(String(describing: status.baseCopy))")
            #expect(!FileManager.default.fileExists(atPath: standbyData.path + ".base-copy-in-progress"))
            // The restarted primary holds no pin: the standby's resume got a new copy, and said why.
            #expect(standby.log.contains("starting over — the primary no longer holds the pin"), "\(standby.log)")
        }
    }

    @Test("a connection cut mid-copy: the standby resumes from the bytes it holds, and the copy is whole")
    func resumesAfterACut() throws {
        try withTemporaryDirectory { directory in
            // Bigger chunks (the cut comes sooner), and a pin kept well past the standby's 0.5 s backoff.
            let environment = ["UNDERSTUDY_TEST_BASE_COPY_CHUNK_BYTES": "65536", "UNDERSTUDY_TEST_BASE_COPY_RESUME_WINDOW_MS": "30000"]
            let primary = try Primary(in: directory, environment: Primary.slowCopy.merging(environment) { $1 })
            defer { primary.process.cleanUp() }
            let standbyData = directory.appendingPathComponent("standby")
            let standby = try ServerProcess(
                primary.standbyArguments(standbyData), in: directory, environment: ["UNDERSTUDY_TEST_BASE_COPY_CUT_AFTER_BYTES": "200000"])
            defer { standby.cleanUp() }
            try Self.expectSameContent(standby, primary)
            let baseCopy = try #require(try StandbyCommandTests.client(standby.url) { try $0.status() }.baseCopy)
            #expect(baseCopy.attempts == 2)
            #expect(baseCopy.state == .done && baseCopy.bytes == baseCopy.total)
            let resumed = try #require(baseCopy.resumedBytes, "\(baseCopy)")
            // The second attempt was sent only what the first had not received.
            #expect(resumed >= 200_000 && resumed < (baseCopy.total ?? 0), "\(baseCopy)")
            #expect(standby.log.contains("base copy resumed"), "\(standby.log)")
            #expect(primary.process.log.contains("base copy: resuming the pinned files"), "\(primary.process.log)")
            #expect(!FileManager.default.fileExists(atPath: standbyData.path + ".base-copy-in-progress"))
            try Self.expectPinReleased(primary)
        }
    }

    @Test("SIGTERM during a base copy stops the standby cleanly: exit 0, no half directory, the primary unharmed")
    func stoppedMidCopy() throws {
        try withTemporaryDirectory { directory in
            let primary = try Primary(in: directory, environment: Primary.slowCopy)
            defer { primary.process.cleanUp() }
            let standbyData = directory.appendingPathComponent("standby")
            let standby = try ServerProcess(primary.standbyArguments(standbyData), in: directory, awaitReady: false)
            defer { standby.cleanUp() }
            try Self.waitForLog(of: standby, containing: "base copy started")
            #expect(standby.stop(with: SIGTERM) == 0, "\(standby.log)")
            Self.expectNothingLeft(at: standbyData)
            #expect(try StandbyCommandTests.client(primary.process.url) { try $0.status() }.role == "primary")
            // Nobody resumes the cut copy: its pin lapses (after the test's short window) and checkpoints run again.
            try Self.expectPinReleased(primary)
        }
    }

    /// The primary logged its pin's release, and a checkpoint of a new commit is taken.
    static func expectPinReleased(_ primary: Primary) throws {
        try waitForLog(of: primary.process, containing: "base copy pin released")
        try StandbyCommandTests.put(["after-the-pin": "1"], on: primary.process.url)
        let token = try AdminToken.read(DataDirectory(.init(primary.data.path)))
        #expect(try StandbyCommandTests.client(primary.process.url) { try $0.checkpoint(token: token) }.taken)
    }

    /// A failed or abandoned copy leaves neither the data directory nor its staging directory.
    static func expectNothingLeft(at standbyData: URL, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!FileManager.default.fileExists(atPath: standbyData.path), sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: standbyData.path + ".base-copy-in-progress"), sourceLocation: sourceLocation)
    }

    /// Waits until the standby applied everything the primary has, then compares every key.
    static func expectSameContent(_ standby: ServerProcess, _ primary: Primary) throws {
        let target = try StandbyCommandTests.client(primary.process.url) { try $0.status().repository.applied.seqno }
        // At or past: a timed checkpoint of the primary may add its record meanwhile.
        _ = try StandbyCommandTests.waitForStatus(of: standby, deadline: 60) { $0.repository.applied.seqno >= target }
        let keys = try allKeys(primary.process.url)
        #expect(keys.count >= keyCount)
        #expect(try allKeys(standby.url) == keys)
        try StandbyCommandTests.client(primary.process.url) { primaryClient in
            try StandbyCommandTests.client(standby.url) { standbyClient in
                for key in keys {
                    let expected = try primaryClient.get(key: key)?.value
                    #expect(try standbyClient.get(key: key)?.value == expected, "\(String(decoding: key, as: UTF8.self))")
                }
            }
        }
        for (key, value) in primary.values.prefix(50) {
            #expect(try StandbyCommandTests.client(standby.url) { try $0.get(key: Array(key.utf8))?.value } == value)
        }
    }

    /// The URL of the `GET /status` a standby serves while it copies its base, from its log.
    static func statusServer(in log: String) -> String? {
        let marker = "serving GET /status during the base copy: http="
        guard let range = log.range(of: marker) else { return nil }
        return "http://" + log[range.upperBound...].prefix { !$0.isWhitespace }
    }

    static func phaseStatus(_ url: String) throws -> BaseCopyPhaseStatus {
        let response = try StandbyCommandTests.client(url) { try $0.send(method: "GET", path: "/status") }
        #expect(response.status == 200, "\(response.text)")
        return try JSONDecoder().decode(BaseCopyPhaseStatus.self, from: Data(response.body))
    }

    static func allKeys(_ url: String) throws -> [[UInt8]] {
        try StandbyCommandTests.client(url) { client in
            var keys: [[UInt8]] = []
            var after: [UInt8]?
            repeat {
                let page = try client.list(after: after, limit: 1000)
                keys += page.keys.map(\.bytes)
                after = page.next == nil ? nil : keys.last
            } while after != nil
            return keys
        }
    }

    static func waitForLog(of node: ServerProcess, containing text: String, deadline seconds: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !node.log.contains(text) {
            try #require(Date() < deadline, "the log never said '\(text)':\n\(node.log)")
            Thread.sleep(forTimeInterval: 0.05)
        }
    }
}

extension Array {
    fileprivate func chunked(into size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
