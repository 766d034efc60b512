import Foundation
import SystemPackage
import Tranlog

/// `extents/MANIFEST`: which runs make up the repository and the applied position they contain.
/// Recovery loads the runs (oldest first, newer entries replacing older) and replays tranlogs from
/// `oldestFileIDNeeded`, skipping records at or before `checkpoint.seqno`.
public struct Manifest: Codable, Hashable, Sendable {
    public var formatVersion: Int
    public var repositoryID: RepositoryID
    /// Bumps on every switch, so two manifests of one repository order by it.
    public var generation: UInt64
    /// Oldest first.
    public var runs: [ExtentRunSummary]
    public var checkpoint: AppliedPosition
    public var oldestFileIDNeeded: FileID
    /// Set by a clean shutdown's checkpoint, cleared as soon as the repository opens again.
    public var cleanShutdown: Bool
    /// The generation the next run written will take; above every run listed.
    public var nextRunGeneration: UInt64
    /// The content digest of the objects the runs hold together. Recovery recomputes it from the
    /// runs it loads and refuses to open on a difference (a damaged or missing run). Absent from
    /// manifests written before digests existed: those are trusted as they are.
    public var digest: ContentDigest?

    public init(
        formatVersion: Int, repositoryID: RepositoryID, generation: UInt64, runs: [ExtentRunSummary],
        checkpoint: AppliedPosition, oldestFileIDNeeded: FileID, cleanShutdown: Bool, nextRunGeneration: UInt64,
        digest: ContentDigest?
    ) {
        self.formatVersion = formatVersion
        self.repositoryID = repositoryID
        self.generation = generation
        self.runs = runs
        self.checkpoint = checkpoint
        self.oldestFileIDNeeded = oldestFileIDNeeded
        self.cleanShutdown = cleanShutdown
        self.nextRunGeneration = nextRunGeneration
        self.digest = digest
    }

    /// What is wrong with the run list, if anything: names must match generations, which increase
    /// and stay below `nextRunGeneration`.
    var inconsistency: String? {
        for run in runs where run.fileName != ExtentRunSummary.fileName(generation: run.generation) {
            return "run \(run.fileName) is listed with generation \(run.generation)"
        }
        let generations = runs.map(\.generation)
        guard zip(generations, generations.dropFirst()).allSatisfy({ $0 < $1 }) else {
            return "run generations \(generations) are not increasing"
        }
        guard (generations.last ?? 0) < nextRunGeneration else {
            return "nextRunGeneration \(nextRunGeneration) is not above run \(generations.last ?? 0)"
        }
        return nil
    }
}

/// Reads and atomically replaces `extents/MANIFEST`. The file, format version 1:
///
///     offset  size  field
///     0       8     magic "USMANFST"
///     8       2     formatVersion (1)
///     10      4     jsonLength
///     14      jsonLength bytes: the `Manifest` as UTF-8 JSON, keys sorted
///     14+n    4     CRC-32 of the JSON bytes
///
/// Integers are little-endian. The JSON's own `formatVersion` must also be 1.
public enum ManifestStore {
    public static let fileName = "MANIFEST"
    public static let version = 1
    static let magic: [UInt8] = Array("USMANFST".utf8)
    static let framingBytes = 8 + 2 + 4 + 4
    /// Far above any real run list; refuses a corrupt length before allocating for it.
    static let maxJSONBytes = 16 * 1024 * 1024

    /// The manifest in `directory`, or nil when there is none.
    public static func read(directory: FilePath, fileSystem: any TranlogFileSystem) throws(ExtentError) -> Manifest? {
        let path = directory.appending(fileName)
        guard fileSystem.fileExists(path) else { return nil }
        let bytes = try fileCall { () throws(TranlogError) in try fileSystem.readFile(path) }
        switch decode(bytes) {
        case .success(let manifest): return manifest
        case .failure(.unsupportedVersion(let version)): throw .unsupportedManifestVersion(file: path.string, version: version)
        case .failure(.corrupt(let detail)): throw .corruptManifest(file: path.string, detail: detail)
        }
    }

    /// Replaces the manifest in `directory` durably: after a crash, the old or the new one is there.
    public static func write(_ manifest: Manifest, directory: FilePath, fileSystem: any TranlogFileSystem) throws(ExtentError) {
        precondition(manifest.formatVersion == version, "this build writes manifest version \(version)")
        precondition(manifest.inconsistency == nil, "inconsistent manifest: \(manifest.inconsistency!)")
        let bytes = encode(manifest)
        try fileCall { () throws(TranlogError) in try fileSystem.replaceFile(directory.appending(fileName), contents: bytes[...]) }
    }

    static func encode(_ manifest: Manifest) -> [UInt8] {
        let json = JSONCoding.encode(manifest)
        var writer = ByteWriter()
        writer.append(contentsOf: magic)
        writer.append(UInt16(version))
        writer.append(UInt32(json.count))
        writer.append(contentsOf: json)
        writer.append(Checksum.crc32(json))
        return writer.bytes
    }

    enum DecodeFailure: Error {
        case unsupportedVersion(Int)
        case corrupt(String)
    }

    static func decode(_ bytes: [UInt8]) -> Result<Manifest, DecodeFailure> {
        guard bytes.count >= framingBytes, bytes.starts(with: magic) else {
            return .failure(.corrupt("\(bytes.count) bytes without a manifest's magic and framing"))
        }
        var reader = ByteReader(bytes.dropFirst(magic.count))
        let fileVersion = Int(reader.read(UInt16.self)!)
        guard fileVersion == version else { return .failure(.unsupportedVersion(fileVersion)) }
        let jsonLength = Int(reader.read(UInt32.self)!)
        guard jsonLength <= maxJSONBytes, jsonLength == bytes.count - framingBytes else {
            return .failure(.corrupt("the JSON length \(jsonLength) does not fit the file's \(bytes.count) bytes"))
        }
        let json = reader.readBytes(jsonLength)!
        let stored = reader.read(UInt32.self)!
        guard stored == Checksum.crc32(json) else {
            return .failure(.corrupt("CRC mismatch (stored \(stored), computed \(Checksum.crc32(json)))"))
        }
        return decodeJSON(json)
    }

    private static func decodeJSON(_ json: ArraySlice<UInt8>) -> Result<Manifest, DecodeFailure> {
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: Data(json)) } catch {
            return .failure(.corrupt("its JSON does not decode: \(error)"))
        }
        guard manifest.formatVersion == version else { return .failure(.unsupportedVersion(manifest.formatVersion)) }
        if let problem = manifest.inconsistency { return .failure(.corrupt(problem)) }
        return .success(manifest)
    }
}

extension Manifest {
    /// Takes the generation and next run generation of a MANIFEST whose switch failed (at least
    /// these): the rename may have landed though its directory sync failed, so no later run or
    /// MANIFEST may reuse a number that the directory may name. What this one lists is unchanged.
    public mutating func reserveNumbers(of attempted: Manifest) {
        generation = max(generation, attempted.generation)
        nextRunGeneration = max(nextRunGeneration, attempted.nextRunGeneration)
    }
}
