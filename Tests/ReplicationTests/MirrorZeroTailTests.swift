import Testing
import Tranlog
import UnderstudyTesting

@testable import Replication

/// The mirror's newest file runs on in zeros ahead of small messages (their syncs overwrite instead
/// of growing the file), while a catching-up standby's large messages grow it with no zeros written
/// ahead of them.
@Suite struct MirrorZeroTailTests {
    @Test func smallMessagesFillZerosAheadAndLargeOnesGrowTheFile() throws {
        let fileSystem = SimulatedFileSystem()
        try fileSystem.createDirectory(standbyDirectory)
        let (writer, _) = try MirrorLogWriter.open(
            directory: standbyDirectory, fileSystem: fileSystem, repositoryID: testRepository, emptyPosition: (.zero, 0),
            logger: quietLogger)
        let header = FileHeader(
            repositoryID: testRepository, fileID: .first, epoch: .first, creationTime: startOfTime, previousLastSeqno: .zero,
            previousLastRecordCRC: 0)
        try writer.startFile(header, bytes: header.encode())
        let path = standbyDirectory.appending(FileID.first.fileName)
        var data = UInt64(FileHeader.size)
        func append(_ count: Int) throws {
            try writer.append([UInt8](repeating: 7, count: count))
            data += UInt64(count)
        }

        try append(MirrorLogWriter.growsPastZerosBytes)
        #expect(try fileSystem.fileSize(path) == data, "a large message grows the file, no zeros ahead")
        try append(500)
        let filled = data + UInt64(MirrorLogWriter.zeroFillBytes)
        #expect(try fileSystem.fileSize(path) == filled, "a small one fills zeros ahead of it")
        try append(MirrorLogWriter.growsPastZerosBytes)
        #expect(try fileSystem.fileSize(path) == filled, "a large message within the zeros overwrites them")
        while data + UInt64(MirrorLogWriter.growsPastZerosBytes) <= filled { try append(MirrorLogWriter.growsPastZerosBytes) }
        try append(MirrorLogWriter.growsPastZerosBytes)
        #expect(try fileSystem.fileSize(path) == data, "one reaching past the zeros grows the file to its end")

        try writer.closeCurrentFile()
        #expect(try fileSystem.fileSize(path) == data)
    }
}
