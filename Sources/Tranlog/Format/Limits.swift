/// Every size limit of the tranlog format, in one place. The writer refuses to produce anything past
/// them and the reader refuses to accept it, so a corrupt length can never make us allocate wildly.
public enum TranlogLimits {
    /// Keys are 1 byte to 1 KiB.
    public static let maxKeyBytes = 1024
    /// Values are 0 bytes to 16 MiB.
    public static let maxValueBytes = 16 * 1024 * 1024
    /// One commit's operations, encoded. Room for four maximal values plus keys and framing.
    public static let maxPayloadBytes = 64 * 1024 * 1024 + 64 * 1024
    /// A whole frame: fixed header, the longest source id, the largest payload and the CRC.
    public static let maxFrameBytes = RecordFrame.fixedHeaderBytes + SourceID.maxBytes + maxPayloadBytes
        + RecordFrame.trailerBytes
    /// A label carried by backupStart/backupEnd records.
    public static let maxLabelBytes = 1024
    /// The default size at which the writer rotates to a new file.
    public static let defaultRotationBytes = 64 * 1024 * 1024
}
