import Foundation
import Node
import Testing

/// The alert rules and the dashboard in deploy/ name only metrics the nodes export: a renamed or
/// removed metric would leave an alert that never fires, so this test fails instead.
@Suite("deploy/'s Prometheus rules and Grafana dashboard use metrics that exist")
struct MonitoringFilesTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../deploy").standardized

    /// Every `understudy_…` name in a file, histogram series reduced to the histogram's name.
    static func metricNames(in file: String) throws -> Set<String> {
        let text = try String(contentsOf: deploy.appendingPathComponent(file), encoding: .utf8)
        let regex = try NSRegularExpression(pattern: "understudy_[a-z_]+")
        let names = regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
            String(text[Range(match.range, in: text)!])
        }
        return Set(names.map { name in
            for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) { return String(name.dropLast(suffix.count)) }
            return name
        })
    }

    /// The names a /metrics text exports (from its `# TYPE` lines and samples).
    static func exported(_ text: String) -> Set<String> {
        Set(text.split(separator: "\n").compactMap { line -> String? in
            let body = line.hasPrefix("# TYPE ") ? line.dropFirst("# TYPE ".count) : line.hasPrefix("#") ? nil : line[...]
            return body.map { String($0.prefix { $0 != " " && $0 != "{" }) }
        })
    }

    @Test("every metric in the alert rules and the dashboard is exported by a primary (synchronous, archiving, retention limit) or its standby")
    func everyMetricExists() throws {
        let wanted = try Self.metricNames(in: "prometheus/understudy-alerts.yml").union(Self.metricNames(in: "grafana/understudy-dashboard.json"))
        #expect(wanted.count >= 15, "\(wanted.sorted())")
        try withTemporaryDirectory { directory in
            let archive = directory.appendingPathComponent("archive")
            try FileManager.default.createDirectory(at: archive, withIntermediateDirectories: false)
            let pair = try StandbyCommandTests.Pair(
                in: directory, keys: ["base": "0"],
                primaryArguments: ["--archive-dir", archive.path, "--max-retained-mbytes", "64"])
            defer { pair.cleanUp() }
            let standby = try pair.startStandby()
            defer { standby.cleanUp() }
            // Synchronous once the standby is there (the pair's set-up writes before it is).
            try StandbyCommandTests.Pair.run(
                ["synchronous", "set", "--standbys", "1", "--node", pair.primary.url, "--data", pair.primaryData.path], in: directory)
            // Writes over a few seconds: the runway's rate needs the log to grow between samples.
            var missing = wanted
            let deadline = Date().addingTimeInterval(30)
            var round = 0
            while !missing.isEmpty && Date() < deadline {
                try StandbyCommandTests.put(["k\(round)": String(repeating: "v", count: 2000)], on: pair.primary.url)
                round += 1
                let primary = try StandbyCommandTests.client(pair.primary.url) { try $0.metrics() }
                let standbyMetrics = try StandbyCommandTests.client(standby.url) { try $0.metrics() }
                missing.subtract(Self.exported(primary).union(Self.exported(standbyMetrics)))
                if !missing.isEmpty { usleep(200_000) }
            }
            #expect(missing.isEmpty, "named in deploy/ but exported by no node: \(missing.sorted())")
        }
    }
}
