import ArgumentParser
import Node

/// `understudy delete KEY`: removes one object on a running node.
struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete one object on a running node (deleting an absent key is not an error).")

    @Argument(help: "The key.")
    var key: String

    @OptionGroup var conditions: WriteConditionOptions
    @OptionGroup var node: NodeOptions

    @Flag(help: "Print the commit as JSON.")
    var json = false

    func run() throws {
        let reply = try node.withClient { try $0.delete(key: Array(key.utf8), expecting: conditions.expectation) }
        try printCommitted(reply, json: json)
    }
}
