/// Files a running node writes under a temporary name and renames into place: an atomic replace's
/// `NAME.tmp`, a preallocated tranlog segment. A copy of a data directory never needs one (recovery
/// removes what a crash left of them), and one may vanish between a copy's listing and its read.
public enum TransientFile {
    /// The suffix of an atomic replace's temporary file (`TranlogFileSystem.replaceFile`).
    public static let temporarySuffix = ".tmp"

    public static func matches(_ name: String) -> Bool {
        name.hasSuffix(temporarySuffix) || name.hasSuffix(SegmentPreallocator.suffix)
    }
}
