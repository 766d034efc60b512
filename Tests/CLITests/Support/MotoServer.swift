import Foundation
import SystemPackage
import Testing
import Tranlog

/// moto's S3-compatible server (`moto_server`) on a free 127.0.0.1 port, and the AWS CLI pointed at
/// it. Both must be installed (`pip install 'moto[server]' awscli`, as `.ci/run` does): a missing one
/// fails the test, it is not skipped. moto keeps its buckets in memory only, so a restart on the same
/// port (`start()` after `stop()`) is a store that came back empty.
final class MotoServer: @unchecked Sendable {
    /// Credentials and region moto accepts; nothing leaves the machine.
    static let environment = ["AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"]

    private static let install = "pip install 'moto[server]' awscli (.ci/run does)"

    let port: Int
    let aws: String
    private let moto: String
    private let logURL: URL
    private var process: ChildProcess?

    init(logDirectory: URL) throws {
        moto = try InstalledTool.path("moto_server", install: Self.install)
        aws = try InstalledTool.path("aws", install: Self.install)
        port = try Loopback.freePort()
        logURL = logDirectory.appendingPathComponent("moto-\(port).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        try start()
    }

    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// The AWS CLI at this server as a shell command prefix, for an `--archive-command` or a `--restore-command`.
    var awsCommand: String {
        Self.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            + " \(aws) --endpoint-url \(endpoint)"
    }

    /// Starts moto and waits until it accepts connections.
    func start() throws {
        let log = FilePath(logURL.path)
        let process = try ChildProcess(
            moto, ["-H", "127.0.0.1", "-p", "\(port)"],
            standardOutput: .file(log, append: true), standardError: .file(log, append: true))
        self.process = process
        let deadline = Date().addingTimeInterval(30)
        while !Loopback.accepts(port: port) {
            try #require(process.isRunning, "moto_server exited: \((try? String(contentsOf: logURL, encoding: .utf8)) ?? "")")
            try #require(Date() < deadline, "moto_server did not listen on \(port) within 30 s")
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Kills moto (SIGKILL: it has nothing to save) and waits for it to exit: the port refuses
    /// connections afterwards.
    func stop() {
        guard let process else { return }
        process.send(SIGKILL)
        _ = process.waitForExit()
        self.process = nil
    }

    /// Runs `aws --endpoint-url … arguments…`; its exit status, and its standard output followed
    /// by its standard error.
    @discardableResult
    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let finished = try ChildProcess.run(
            aws, ["--endpoint-url", endpoint] + arguments,
            environment: ProcessInfo.processInfo.environment.merging(Self.environment) { $1 })
        return (finished.termination.status, String(decoding: finished.output + finished.errors, as: UTF8.self))
    }

    func makeBucket(_ bucket: String) throws {
        let made = try run(["s3", "mb", "s3://\(bucket)"])
        try #require(made.status == 0, "aws s3 mb: \(made.output)")
    }

    /// The object names under `prefix/` (`aws s3 ls`).
    func list(_ bucket: String, prefix: String) throws -> [String] {
        let listed = try run(["s3", "ls", "s3://\(bucket)/\(prefix)/"])
        try #require(listed.status == 0 || listed.output.isEmpty, "aws s3 ls: \(listed.output)")
        return listed.output.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
    }

    func cleanUp() { stop() }
}
