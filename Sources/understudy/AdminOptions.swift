import ArgumentParser
import Foundation
import Node
import Repository
import SystemPackage

/// `--data DIR` and `--node URL`, shared by every verb of the admin API (`/admin/...`): the token is
/// read from DIR/admin.token, else from UNDERSTUDY_ADMIN_TOKEN.
struct AdminOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The node's data directory, to read its admin token.", valueName: "DIR"))
    var data: String?

    @OptionGroup var node: NodeOptions

    /// Backups and restores answer when they are done, which takes as long as the repository is big:
    /// this bounds only a node that stopped answering without closing the connection.
    static let longOperationTimeout = Duration.seconds(24 * 3600)

    static let tokenHelp = "Needs the admin token: --data DIR reads DIR/admin.token, else UNDERSTUDY_ADMIN_TOKEN is used."

    /// Runs `body` with a client for the node and the admin token.
    func withClient<Value>(timeout: Duration = NodeOptions.defaultTimeout, _ body: (NodeClient, String) throws -> Value) throws -> Value {
        let token = try token()
        return try node.withClient(timeout: timeout) { try body($0, token) }
    }

    func token() throws -> String {
        try Self.token(data: data)
    }

    /// DIR/admin.token when `data` is given, else UNDERSTUDY_ADMIN_TOKEN.
    static func token(data: String?) throws -> String {
        if let data { return try AdminToken.read(DataDirectory(FilePath(data))) }
        if let token = ProcessInfo.processInfo.environment["UNDERSTUDY_ADMIN_TOKEN"] { return token }
        throw CommandError("the admin token is needed: pass --data DIR (reads DIR/admin.token) or set UNDERSTUDY_ADMIN_TOKEN")
    }
}

/// Paths travel to the node, whose working directory is not ours: a relative path is made absolute
/// here, relative to where the command runs (as the manual's relative backup paths are relative to
/// the session). An empty name stays empty, for the node to refuse.
func absolutePath(_ path: String) -> String {
    guard !path.isEmpty else { return path }
    return FilePath(FileManager.default.currentDirectoryPath).pushing(FilePath(path)).lexicallyNormalized().string
}
