import ArgumentParser
import Foundation
import Node
import SystemPackage

/// `understudy commit --file batch.json`: one atomic batch of puts and deletes with preconditions.
struct CommitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit",
        abstract: "Commit a JSON batch of puts and deletes atomically on a running node.",
        discussion: """
            The batch, as POST /commit takes it:
              {"operations": [{"op": "put", "key": "k", "value": "text"},
                              {"op": "put", "key": "k", "valueBase64": "AAE="},
                              {"op": "delete", "key": "k"}],
               "preconditions": [{"key": "k", "absent": true},
                                 {"key": "k", "writtenAt": 12}]}
            If a precondition does not hold, nothing is applied and the conflict is reported (exit status 1).
            """)

    @Option(help: ArgumentHelp("The batch; - reads stdin.", valueName: "FILE"))
    var file: String

    @OptionGroup var node: NodeOptions

    @Flag(help: "Print the commit as JSON.")
    var json = false

    func run() throws {
        let contents = file == "-" ? try readStandardInput() : FileManager.default.contents(atPath: file)
        guard let contents else { throw CommandError("cannot read \(file)") }
        let reply = try node.withClient { try $0.commit(json: Array(contents)) }
        try printCommitted(reply, json: json)
    }

    /// `readDataToEndOfFile()` would end the process with a fatal error on a failed read (stdin
    /// redirected from a directory); this reports it.
    private func readStandardInput() throws -> Data {
        do { return Data(try FileDescriptor.standardInput.readToEnd()) } catch {
            throw CommandError("cannot read the batch from standard input: \(error)")
        }
    }
}
