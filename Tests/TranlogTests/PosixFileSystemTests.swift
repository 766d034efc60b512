import Foundation
import SystemPackage
import Testing
import Tranlog

/// Reading real files: a file comes back whole however many reads it takes, a range stops where
/// the file ends, and a file holding more than its size says is read to its end.
@Suite struct PosixFileSystemTests {
    @Test func aFileIsReadWholeAndARangeStopsAtTheFilesEnd() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("understudy-posix-read-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = FilePath(directory.appendingPathComponent("file").path)
        // Several MiB, and not a multiple of a page.
        let bytes = (0..<3_000_001).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
        #expect(FileManager.default.createFile(atPath: path.string, contents: Data(bytes)))

        let fileSystem = PosixFileSystem()
        #expect(try fileSystem.readFile(path) == bytes)
        #expect(try fileSystem.read(path, at: 5, count: 10) == Array(bytes[5..<15]))
        #expect(try fileSystem.read(path, at: 2_999_990, count: 100) == Array(bytes[2_999_990...]), "a range past the end is cut there")
        #expect(try fileSystem.read(path, at: 4_000_000, count: 10) == [])
    }

    @Test func aFileHoldingMoreThanItsSizeIsReadToItsEnd() throws {
        // A /proc file gives its size as 0 and holds text, as a file still growing holds more than
        // the size taken before reading it.
        let status = try PosixFileSystem().readFile(FilePath("/proc/self/status"))
        #expect(String(decoding: status.prefix(5), as: UTF8.self) == "Name:")
        #expect(status.count > 100)
    }

    @Test func aMissingFileIsAnErrorNamingIt() {
        let error = #expect(throws: TranlogError.self) { try PosixFileSystem().readFile(FilePath("/nonexistent/understudy-missing")) }
        #expect(error.map { "\($0)" }?.contains("/nonexistent/understudy-missing") == true)
    }
}
