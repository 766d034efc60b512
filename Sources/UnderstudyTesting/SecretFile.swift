import Foundation

/// Writes a key or token file as a node requires it: readable by its owner only (0600) unless the
/// test asks for another mode.
public func writeSecret(_ text: String, to url: URL, mode: Int = 0o600) throws {
    try Data(text.utf8).write(to: url)
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
}
