import Foundation
import SystemPackage

/// An operator's shell command that stores or fetches one tranlog (`--archive-command`,
/// `--restore-command`), PostgreSQL's `archive_command` convention: `%p` becomes the file's path,
/// `%f` its name, `%%` a literal `%`; the result runs through `/bin/sh -c`, and exit 0 is success.
/// Substituted values are not quoted (as in PostgreSQL): the names are the node's own
/// (`tranlogN.dbf`), and an operator whose data directory has spaces quotes `"%p"`.
public struct ArchiveCommand: Sendable, CustomStringConvertible {
    public let template: String
    /// The end of the command's standard error kept for the failure message.
    static let keptErrorBytes = 2000

    public init(_ template: String) { self.template = template }

    public var description: String { template }

    /// `template` with `%p`, `%f` and `%%` replaced; any other `%` is left as it is.
    public func expanded(path: FilePath, fileName: String) -> String {
        var result = ""
        var iterator = template.makeIterator()
        while let character = iterator.next() {
            guard character == "%" else { result.append(character); continue }
            switch iterator.next() {
            case "p": result += path.string
            case "f": result += fileName
            case "%": result.append("%")
            case let other?: result.append("%"); result.append(other)
            case nil: result.append("%")
            }
        }
        return result
    }

    /// Runs the command for one file and waits for it (the caller is a background queue, never a
    /// loop). Throws `archiveCommandFailed` with the exit status and the end of its standard error.
    public func run(path: FilePath, fileName: String) throws(TranlogError) {
        let command = expanded(path: path, fileName: fileName)
        let child: ChildProcess
        do { child = try ChildProcess("/bin/sh", ["-c", command], standardOutput: .null, standardError: .pipe) } catch {
            throw .archiveCommandFailed(file: fileName, command: command, outcome: "\(error)")
        }
        // Read to the end before waiting: a command writing more than a pipe holds would block otherwise.
        let output = ChildProcess.readToEnd(child.standardError!)
        let ended = child.waitForExit()
        guard !ended.succeeded else { return }
        let said = String(decoding: output.suffix(Self.keptErrorBytes), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let how = ended.description
        throw .archiveCommandFailed(file: fileName, command: command, outcome: said.isEmpty ? how : "\(how): \(said)")
    }
}
