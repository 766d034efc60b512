import ArgumentParser
import Node

/// `understudy list`: the keys of a running node, in byte order.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List keys on a running node, in byte order.",
        discussion: """
            One key per line, as text when printable, else 0x and hex. When more keys follow, a note on \
            stderr says how to continue (--after). --json prints the node's answer: \
            {"keys": [...], "next": ...}, each key a string, or {"hex": "..."} when not UTF-8.
            """)

    @Option(help: "Only keys starting with this.")
    var prefix = ""

    @Option(help: "Only keys after this one (to continue a listing).")
    var after: String?

    @Option(help: "At most this many keys (1 to 1000; default 100).")
    var limit: Int?

    @OptionGroup var node: NodeOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let list = try node.withClient { try $0.list(prefix: Array(prefix.utf8), after: after.map { Array($0.utf8) }, limit: limit) }
        if json { return print(try jsonLine(list)) }
        for key in list.keys { print(renderKey(key.bytes)) }
        if let next = list.next { printToStandardError("more keys follow: continue with --after \(renderKey(next.bytes))") }
    }
}
