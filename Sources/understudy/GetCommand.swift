import ArgumentParser
import Foundation
import Node

/// `understudy get KEY`: prints one object's value, byte for byte.
struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print one object's value from a running node.",
        discussion: """
            The value goes to stdout exactly as stored (a newline is added only on a terminal), so \
            `understudy get KEY > FILE` copies it. The seqno that wrote it goes to stderr with --seqno. \
            A key without a value is an error (exit status 1).
            """)

    @Argument(help: "The key.")
    var key: String

    @Flag(help: "Also print the seqno that wrote the value, on stderr.")
    var seqno = false

    @OptionGroup var node: NodeOptions

    func run() throws {
        guard let object = try node.withClient({ try $0.get(key: Array(key.utf8)) }) else {
            throw CommandError("key '\(key)' has no value")
        }
        writeToStandardOutput(Array(object.value))
        if isatty(STDOUT_FILENO) == 1 { print() }
        if seqno { printToStandardError("seqno \(object.seqno)") }
    }
}
