import Foundation
import Node

extension StatusCommand {
    /// While a standby copies its base its `GET /status` is a `BaseCopyPhaseStatus` (no repository
    /// exists yet): printed when that is what the node answered; false otherwise.
    func printBaseCopyPhase() throws -> Bool {
        let response = try node.withClient { try $0.send(method: "GET", path: "/status") }
        guard response.status == 200, let phase = try? JSONDecoder().decode(BaseCopyPhaseStatus.self, from: Data(response.body)) else {
            return false
        }
        if json {
            print(try jsonDocument(phase))
            return true
        }
        let copy = phase.baseCopy
        printFields([
            "role": "\(phase.role) (copying its base from the primary)",
            "base copy": "\(copy.state.rawValue), attempt \(copy.attempts), \(copy.bytes) of \(copy.total.map(String.init) ?? "?") bytes"
                + (copy.resumedBytes.map { ", resumed from \($0)" } ?? ""),
            "last error": copy.lastError ?? "none",
            "data directory": phase.dataDirectory,
            "http": phase.httpAddress,
            "version": phase.version,
        ])
        return true
    }
}
