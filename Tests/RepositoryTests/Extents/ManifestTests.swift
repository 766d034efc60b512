import Foundation
import SystemPackage
import Testing
import Tranlog
import UnderstudyTesting

@testable import Repository

extension ExtentTests {
    @Suite struct ManifestTests {
        static let path = extents.appending("MANIFEST")

        static func manifest(generation: UInt64, digest: ContentDigest? = ContentDigest(high: 0xAB, low: 1)) -> Manifest {
            let run = ExtentRunSummary(
                fileName: "extent-000003.dbf", generation: 3, entryCount: 10, tombstoneCount: 2, byteCount: 4_096,
                minSeqno: Seqno(5), maxSeqno: Seqno(42))
            return Manifest(
                formatVersion: 1, repositoryID: repositoryID, generation: generation, runs: [run],
                checkpoint: AppliedPosition(
                    seqno: Seqno(42), epoch: Epoch(2), eventID: EventID("tranlog7.dbf:4096"), sourceID: SourceID("primary-1"),
                    time: Timestamp(iso8601: "2026-11-22T03:00:00Z"), recordCRC: 0xC0FF_EE00),
                oldestFileIDNeeded: FileID(7), cleanShutdown: false, nextRunGeneration: 4 + generation, digest: digest)
        }

        @Test func roundTripsAndIsAbsentUntilWritten() throws {
            let fileSystem = extentsFileSystem()
            #expect(try ManifestStore.read(directory: extents, fileSystem: fileSystem) == nil)
            try ManifestStore.write(Self.manifest(generation: 1), directory: extents, fileSystem: fileSystem)
            #expect(try ManifestStore.read(directory: extents, fileSystem: fileSystem) == Self.manifest(generation: 1))
            try ManifestStore.write(Self.manifest(generation: 2), directory: extents, fileSystem: fileSystem)
            #expect(try ManifestStore.read(directory: extents, fileSystem: fileSystem) == Self.manifest(generation: 2))

            let bytes = fileSystem.contents(of: Self.path)!
            #expect(bytes.starts(with: Array("USMANFST".utf8)))
            let json = String(decoding: bytes.dropFirst(14).dropLast(4), as: UTF8.self)
            #expect(json.contains("\"eventID\" : \"tranlog7.dbf:4096\""), "\(json)")
            #expect(json.range(of: "\"checkpoint\"")!.lowerBound < json.range(of: "\"cleanShutdown\"")!.lowerBound, "keys are sorted")
            #expect(json.contains("\"digest\" : \"00000000000000ab0000000000000001\""), "\(json)")
        }

        /// Manifests written before digests have no `digest` key, and still read.
        @Test func aManifestWithoutADigestStillReads() throws {
            let fileSystem = extentsFileSystem()
            try ManifestStore.write(Self.manifest(generation: 1, digest: nil), directory: extents, fileSystem: fileSystem)
            let json = String(decoding: fileSystem.contents(of: Self.path)!.dropFirst(14).dropLast(4), as: UTF8.self)
            #expect(!json.contains("digest"), "\(json)")
            #expect(try ManifestStore.read(directory: extents, fileSystem: fileSystem)?.digest == nil)
        }

        enum Damage: CaseIterable, Sendable {
            case flippedJSONByte, flippedCRCByte, truncated, empty, badMagic, newerFileVersion, newerJSONVersion, inconsistentRuns
        }

        @Test(arguments: Damage.allCases)
        func damageIsRefusedNamingTheFile(_ damage: Damage) throws {
            let fileSystem = extentsFileSystem()
            var manifest = Self.manifest(generation: 1)
            switch damage {
            case .newerJSONVersion: manifest.formatVersion = 2
            case .inconsistentRuns: manifest.nextRunGeneration = 2
            default: break
            }
            var bytes = ManifestStore.encode(manifest)
            switch damage {
            case .flippedJSONByte: bytes[40] ^= 0x01
            case .flippedCRCByte: bytes[bytes.count - 1] ^= 0x01
            case .truncated: bytes.removeLast(9)
            case .empty: bytes = []
            case .badMagic: bytes[0] = 0x58
            case .newerFileVersion: bytes[8] = 2
            case .newerJSONVersion, .inconsistentRuns: break
            }
            fileSystem.overwrite(Self.path, with: bytes)
            let error = expectExtentError({ _ = try ManifestStore.read(directory: extents, fileSystem: fileSystem) }) { error in
                switch (damage, error) {
                case (.newerFileVersion, .unsupportedManifestVersion(Self.path.string, 2)),
                    (.newerJSONVersion, .unsupportedManifestVersion(Self.path.string, 2)):
                    return true
                case (_, .corruptManifest(Self.path.string, _)):
                    return damage != .newerFileVersion && damage != .newerJSONVersion
                default:
                    return false
                }
            }
            let message = error?.description ?? ""
            #expect(message.contains(Self.path.string) && message.contains("refuse to start"), "\(message)")
        }

        /// Power lost at any step of a MANIFEST switch leaves the old or the new manifest, whole.
        @Test(arguments: [0, 1, nil] as [Int?])
        func aCrashDuringTheSwitchLeavesTheOldOrTheNewManifest(successfulSyncs: Int?) throws {
            let seed = testSeed()
            print("aCrashDuringTheSwitch seed \(seed) (replay with UNDERSTUDY_SEED=\(seed))")
            var random = SeededRandom(seed: seed)
            for _ in 0..<20 {
                let fileSystem = extentsFileSystem()
                try ManifestStore.write(Self.manifest(generation: 1), directory: extents, fileSystem: fileSystem)
                if let successfulSyncs { fileSystem.failSyncs(afterSuccessful: successfulSyncs) }
                let switched = (try? ManifestStore.write(Self.manifest(generation: 2), directory: extents, fileSystem: fileSystem)) != nil
                let crashSeed = random.next()
                let survivor = fileSystem.crashed(seed: crashSeed)
                let found = try ManifestStore.read(directory: extents, fileSystem: survivor)
                #expect(found == Self.manifest(generation: 2) || (!switched && found == Self.manifest(generation: 1)),
                    "crash seed \(crashSeed): found generation \(String(describing: found?.generation))")
            }
        }
    }
}
