import Foundation
import Logging
import Repository
import Replication
import SystemPackage
import Tranlog
import UnderstudyTesting

/// Valid inputs for each target, made by the project's own encoders: the fuzzer's starting corpus,
/// and what the regression tests expect to decode whole, without a rejection.
public enum FuzzSeeds {
    /// Each target's seeds, named.
    public static func all() throws -> [FuzzTarget: [(name: String, bytes: [UInt8])]] {
        let log = try tranlog()
        return [
            .replicationMessages: replicationMessages(frames: log.frames),
            .tranlogFrames: [("tranlog1.dbf", log.file), ("frames", log.frames)],
            .httpRequests: httpMessages(),
            .backup: try backups(),
        ]
    }

    /// Writes `DIR/TARGET/NAME` for every seed.
    public static func write(to directory: URL) throws {
        for (target, seeds) in try all() {
            let folder = directory.appendingPathComponent(target.rawValue)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for seed in seeds { try Data(seed.bytes).write(to: folder.appendingPathComponent(seed.name)) }
        }
    }

    private static let source = SourceID("fuzz-seed")!

    struct FuzzSeedError: Error, CustomStringConvertible {
        var detail: String
        var description: String { detail }
    }
    private static let time = Timestamp(rawValue: 1_764_000_000_000_000)

    /// A tranlog of a few commits and a delete: the whole file, and its frames without the header.
    private static func tranlog() throws -> (file: [UInt8], frames: [UInt8]) {
        let directory = FilePath("/seed/tranlogs")
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectory(directory)
        var configuration = TranlogWriterConfiguration(directory: directory, repositoryID: RepositoryID("6f1c3e2a-9b1d-4c55-8e0f-2a7b9c4d1e01")!, sourceID: source)
        configuration.clock = { time }
        let writer = try TranlogWriter(configuration: configuration, fileSystem: fileSystem, startIfEmpty: .newRepository)
        for index in 0..<4 {
            _ = try writer.appendAndWait(.commit([.put(key: Array("key-\(index)".utf8), value: Array(repeating: UInt8(index), count: 24))]))
        }
        _ = try writer.appendAndWait(.commit([.delete(key: Array("key-1".utf8))]))
        try writer.close()
        guard let file = fileSystem.contents(of: directory.appending(FileID.first.fileName)) else {
            throw FuzzSeedError(detail: "the seed tranlog was not written as \(FileID.first.fileName)")
        }
        return (file, Array(file.dropFirst(FileHeader.size)))
    }

    private static func replicationMessages(frames: [UInt8]) -> [(name: String, bytes: [UInt8])] {
        let history = EpochHistory(first: EpochEntry(epoch: .first, startSeqno: Seqno(1), parentEpoch: .none, time: time, sourceID: source))
        let digest = PositionedDigest(seqno: Seqno(5), value: .empty)
        let hello = Hello(
            repositoryID: RepositoryID("6f1c3e2a-9b1d-4c55-8e0f-2a7b9c4d1e01")!, sourceID: source, position: LogPosition(epoch: .first, seqno: Seqno(2)),
            recordCRC: 0x1234_5678, mirrorEnd: EventID(fileID: .first, offset: 4096), history: history, challenge: Array(repeating: 7, count: 32),
            proof: Array(repeating: 9, count: 32))
        let messages: [(String, ReplicationMessage)] = [
            ("challenge", .challenge(Array(repeating: 1, count: 32))),
            ("hello", .hello(hello)),
            ("records", .records(RecordBatch(firstEventID: EventID(fileID: .first, offset: UInt64(FileHeader.size)), frames: frames))),
            ("heartbeat", .heartbeat(Heartbeat(lastSeqno: Seqno(5), primaryTime: time, digest: digest))),
            ("ack", .ack(Ack(received: Seqno(5), flushed: Seqno(4), applied: Seqno(3), notice: 2))),
        ]
        var seeds = messages.map { (name: $0.0, bytes: MessageCodec.encode($0.1)) }
        seeds.append(("records-compressed", MessageCodec.encode(messages[2].1, compressRecords: true)))
        seeds.append(("stream", seeds.flatMap(\.bytes)))
        return seeds
    }

    private static func httpMessages() -> [(name: String, bytes: [UInt8])] {
        [
            ("get", Array("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)),
            ("put", Array("PUT /objects/a%2Fb HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nAuthorization: Bearer t\r\n\r\nhello".utf8)),
            ("chunked", Array("POST /commit HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".utf8)),
            ("pipelined", Array("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nConnection: close\r\n\r\n".utf8)),
            ("response", Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".utf8)),
        ]
    }

    /// A full backup of a small repository, uncompressed and gzip-compressed.
    private static func backups() throws -> [(name: String, bytes: [UInt8])] {
        let root = FilePath("/seed/node")
        let fileSystem = SimulatedFileSystem()
        try DataDirectory.initialize(root, sourceID: source, loggingMode: .full, fileSystem: fileSystem)
        var configuration = RepositoryConfiguration()
        configuration.preallocatesSegments = false
        let repository = try Repository(
            directory: DataDirectory(root), configuration: configuration, fileSystem: fileSystem,
            logger: Logger(label: "fuzz-seeds") { _ in SwiftLogNoOpLogHandler() })
        defer { try? repository.close() }
        for index in 0..<5 {
            let done = DispatchSemaphore(value: 0)
            repository.commit(Transaction(operations: [.put(key: Array("object-\(index)".utf8), value: Array(repeating: UInt8(index), count: 40))])) { _ in
                done.signal()
            }
            done.wait()
        }
        return try [false, true].map { compress in
            let path = FilePath("/seed/backup-\(compress ? "gz" : "plain")")
            let summary = try repository.fullBackup(to: [BackupTarget(path: path)], compress: compress)
            guard summary.files.count == 1, let bytes = fileSystem.contents(of: FilePath(summary.files[0])) else {
                throw FuzzSeedError(detail: "the seed backup was written as \(summary.files), not one readable file")
            }
            return (name: compress ? "full.backup.gz" : "full.backup", bytes: bytes)
        }
    }
}
