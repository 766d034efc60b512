import ArgumentParser
import Foundation
import Node

/// `understudy put KEY VALUE` or `understudy put KEY --file F`: writes one object on a running node.
struct PutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Write one object (the key and value as given, UTF-8) on a running node.")

    @Argument(help: "The key (1 to 1024 bytes).")
    var key: String

    @Argument(help: "The value; or use --file.")
    var value: String?

    @Option(help: ArgumentHelp("Read the value from this file, byte for byte.", valueName: "FILE"))
    var file: String?

    @OptionGroup var conditions: WriteConditionOptions
    @OptionGroup var node: NodeOptions

    @Flag(help: "Print the commit as JSON.")
    var json = false

    func validate() throws {
        if (value == nil) == (file == nil) { throw ValidationError("give the value either as an argument or with --file, not both or neither") }
    }

    func run() throws {
        let bytes: [UInt8]
        if let file {
            guard let contents = FileManager.default.contents(atPath: file) else { throw CommandError("cannot read \(file)") }
            bytes = Array(contents)
        } else {
            bytes = Array(value!.utf8)
        }
        let reply = try node.withClient { try $0.put(key: Array(key.utf8), value: bytes, expecting: conditions.expectation) }
        try printCommitted(reply, json: json)
    }
}
