/// Where the log stands for the writer: the file being appended to and the last record's seqno and
/// CRC, which the next record must continue.
struct ChainState {
    var fileID: FileID
    var epoch: Epoch
    var fileSize: UInt64
    var recordsInFile: Int
    var lastSeqno: Seqno
    var lastCRC: UInt32

    init(fileID: FileID, epoch: Epoch, fileSize: UInt64, recordsInFile: Int, lastSeqno: Seqno, lastCRC: UInt32) {
        self.fileID = fileID
        self.epoch = epoch
        self.fileSize = fileSize
        self.recordsInFile = recordsInFile
        self.lastSeqno = lastSeqno
        self.lastCRC = lastCRC
    }

    /// A new file holding only its header, continuing the chain described by `start`.
    init(startingFile start: ChainStart) {
        self.init(
            fileID: start.fileID, epoch: start.epoch, fileSize: UInt64(FileHeader.size), recordsInFile: 0,
            lastSeqno: start.previousLastSeqno, lastCRC: start.previousLastRecordCRC)
    }
}
