import Foundation
import Testing

/// A program a test needs installed: missing, the test fails saying how to install it (never skips).
enum InstalledTool {
    static func path(_ name: String, install: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let found = (path.split(separator: ":").map { "\($0)/\(name)" } + ["/usr/bin/\(name)"])
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(found, "\(name) is not installed: \(install)")
    }
}
