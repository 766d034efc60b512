import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

@testable import Repository

/// Extent runs and MANIFEST. Every suite nests here so `swift test --filter ExtentTests` runs them all.
@Suite enum ExtentTests {
    static let extents = FilePath("/data/extents")
    static let repositoryID = RepositoryID("3d0c9a51-27b4-4f7e-9a61-0c2e5d8b7f10")!
    static let otherRepositoryID = RepositoryID("a4e1b2c3-5d6f-4a7b-8c9d-0e1f2a3b4c5d")!

    /// A file system holding an empty extents directory.
    static func extentsFileSystem() -> SimulatedFileSystem {
        let fileSystem = SimulatedFileSystem()
        try! fileSystem.createDirectory(FilePath("/data"))
        try! fileSystem.createDirectory(extents)
        return fileSystem
    }

    static func runPath(_ generation: UInt64, in directory: FilePath = extents) -> FilePath {
        directory.appending(ExtentRunSummary.fileName(generation: generation))
    }

    static func writeRun(
        _ entries: [ExtentEntry], generation: UInt64, fileSystem: any TranlogFileSystem, directory: FilePath = extents
    ) throws -> ExtentRunSummary {
        try ExtentRunWriter.write(
            entries, generation: generation, repositoryID: repositoryID, to: runPath(generation, in: directory), fileSystem: fileSystem)
    }

    static func openRun(_ generation: UInt64, fileSystem: any TranlogFileSystem, directory: FilePath = extents) throws -> ExtentRun {
        try ExtentRun.open(runPath(generation, in: directory), repositoryID: repositoryID, fileSystem: fileSystem)
    }

    static func entry(_ key: String, _ value: String?, seqno: UInt64) -> ExtentEntry {
        ExtentEntry(key: Array(key.utf8), value: value.map { Array($0.utf8) }, seqno: Seqno(seqno))
    }

    static func randomBytes(_ count: Int, using random: inout SeededRandom) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    /// The live entries a sequence of runs leaves, loaded oldest first the way recovery does: a
    /// tombstone removes what older runs hold.
    static func load(_ runs: [[ExtentEntry]]) -> [[UInt8]: ExtentEntry] {
        var state: [[UInt8]: ExtentEntry] = [:]
        for run in runs {
            for entry in run { state[entry.key] = entry.isTombstone ? nil : entry }
        }
        return state
    }

    /// The keys on which two states disagree, printable, so a failed comparison stays readable.
    static func differingKeys(_ found: [[UInt8]: ExtentEntry], _ expected: [[UInt8]: ExtentEntry]) -> [String] {
        Set(found.keys).union(expected.keys).filter { found[$0] != expected[$0] }.map(KeyText.display).sorted()
    }

    /// Asserts `body` throws an `ExtentError` matching `expected` and returns it for message checks.
    @discardableResult
    static func expectExtentError(
        _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation, _ expected: (ExtentError) -> Bool
    ) -> ExtentError? {
        do {
            try body()
            Issue.record("expected an ExtentError, nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as ExtentError {
            #expect(expected(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("expected an ExtentError, got \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }
}

/// An encoder written from the format comment in ExtentRunWriter.swift alone (only the deflate is
/// shared), so tests can craft runs the writer refuses to produce (unsorted or duplicate keys) and
/// check that the writer matches its documentation byte for byte.
struct SpecRunEncoder {
    var repositoryID = ExtentTests.repositoryID
    var generation: UInt64 = 1

    func encode(blocks: [[ExtentEntry]]) -> [UInt8] {
        var file = header()
        var index: [UInt8] = []
        for block in blocks {
            let encoded = encodeBlock(block)
            Self.append(UInt64(file.count), to: &index)
            Self.append(UInt32(encoded.count), to: &index)
            Self.append(UInt16(block[0].key.count), to: &index)
            index += block[0].key
            file += encoded
        }
        let all = blocks.joined()
        var footer: [UInt8] = []
        Self.append(UInt64(file.count), to: &footer)
        Self.append(UInt64(index.count), to: &footer)
        Self.append(UInt64(blocks.count), to: &footer)
        Self.append(UInt64(all.count), to: &footer)
        Self.append(UInt64(all.filter { $0.value == nil }.count), to: &footer)
        Self.append(all.map(\.seqno.rawValue).min() ?? 0, to: &footer)
        Self.append(all.map(\.seqno.rawValue).max() ?? 0, to: &footer)
        Self.append(Checksum.crc32(index), to: &footer)
        Self.append(Checksum.crc32(footer), to: &footer)
        footer += Array("USEXTENT".utf8)
        return file + index + footer
    }

    private func header() -> [UInt8] {
        var header = Array("USEXTENT".utf8)
        Self.append(UInt16(1), to: &header)
        Self.append(UInt16(64), to: &header)
        Self.append(UInt32(0), to: &header)
        header += repositoryID.bytes
        Self.append(generation, to: &header)
        header += [UInt8](repeating: 0, count: 20)
        Self.append(Checksum.crc32(header), to: &header)
        return header
    }

    private func encodeBlock(_ entries: [ExtentEntry]) -> [UInt8] {
        var raw: [UInt8] = []
        for entry in entries {
            Self.append(UInt16(entry.key.count), to: &raw)
            raw.append(entry.value == nil ? 1 : 0)
            Self.append(entry.seqno.rawValue, to: &raw)
            Self.append(UInt32(entry.value?.count ?? 0), to: &raw)
            raw += entry.key + (entry.value ?? [])
        }
        let compressed = makeBlockCompressor().compress(raw)
        var block: [UInt8] = []
        Self.append(UInt32(compressed.count), to: &block)
        Self.append(UInt32(raw.count), to: &block)
        Self.append(UInt32(entries.count), to: &block)
        Self.append(Checksum.crc32(compressed), to: &block)
        return block + compressed
    }

    private static func append<Integer: FixedWidthInteger>(_ value: Integer, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}
