import Foundation
import SystemPackage

/// The size of a file on disk (compressed size for a `.gz`).
func fileSizeBytes(_ path: FilePath) throws -> UInt64 {
    let attributes = try FileManager.default.attributesOfItem(atPath: path.string)
    return (attributes[.size] as? NSNumber)?.uint64Value ?? 0
}
