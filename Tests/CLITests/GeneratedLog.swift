import Foundation
import Testing

/// A log written by `understudy tranlog generate` with small files, so that it spans many of them.
struct GeneratedLog {
    static let commits = 300
    static let checkpointEvery = 100

    let root: URL
    let directory: URL
    /// Plain file names in fileId order.
    let files: [String]

    /// Every commit and checkpoint, a fileEnd closing each file but the last, and the final shutdown.
    var records: Int { Self.commits + Self.commits / Self.checkpointEvery + (files.count - 1) + 1 }

    init(in root: URL) throws {
        self.root = root
        directory = root.appendingPathComponent("tranlogs")
        let result = try CLIProcess.run(
            [
                "tranlog", "generate", directory.path, "--commits", "\(Self.commits)", "--value-bytes", "200",
                "--rotation-bytes", "8192", "--concurrency", "8", "--checkpoint-every", "\(Self.checkpointEvery)",
                "--source-id", "db1",
            ], in: root)
        try #require(result.status == 0, "generate failed: \(result.standardError)")
        files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix("tranlog") }
            .sorted { fileNumber($0) < fileNumber($1) }
        try #require(files.count >= 4, "the log should span several files, got \(files)")
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The fileId of the file in the middle of the sequence.
    var middleFileID: Int { files.count / 2 + 1 }

    func run(_ arguments: String...) throws -> CLIProcess.Result {
        try CLIProcess.run(arguments, in: root)
    }

    /// `list --headers`, split into lines of columns.
    func headerRows() throws -> [[String]] {
        let result = try run("tranlog", "list", directory.path, "--headers")
        try #require(result.status == 0, "list --headers failed: \(result.standardError)")
        return result.standardOutput.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
    }
}

func fileNumber(_ name: String) -> Int {
    Int(name.dropFirst("tranlog".count).prefix(while: \.isNumber)) ?? -1
}
