import Foundation
import Repository
import Replication
import SystemPackage
import Tranlog
import TransportUV
import UnderstudyTesting

/// The decoders that take bytes from outside — a peer, a disk, a client — each behind one entry point
/// that libFuzzer (`understudy-fuzz`, built with `-sanitize=fuzzer`) and the regression tests share.
/// An entry point must never crash or hang on any input: it either decodes something or names what
/// is wrong (a specific error: the outcome's `rejection`).
public enum FuzzTarget: String, CaseIterable, Sendable {
    case replicationMessages = "replication-messages"
    case tranlogFrames = "tranlog-frames"
    case httpRequests = "http-requests"
    case backup

    /// What one input gave: how many items decoded before the end or the first rejection, and the
    /// rejection's text, if any.
    public struct Outcome: Sendable, Equatable {
        public var decoded: Int
        public var rejection: String?
    }

    public func run(_ input: [UInt8]) -> Outcome {
        switch self {
        case .replicationMessages: Self.replicationMessages(input)
        case .tranlogFrames: Self.tranlogFrames(input)
        case .httpRequests: Self.httpRequests(input)
        case .backup: Self.backup(input)
        }
    }

    /// Where the input is split when fed in two pieces (its first byte picks it), so incremental
    /// decoding is exercised as well as whole messages.
    private static func split(_ input: [UInt8]) -> ([UInt8], [UInt8]) {
        guard let first = input.first, input.count > 1 else { return (input, []) }
        let at = Int(first) % input.count
        return (Array(input[..<at]), Array(input[at...]))
    }

    /// The replication stream's decoder, as a primary or standby reads a peer (a small message limit,
    /// so that large announced lengths are refused rather than awaited).
    static func replicationMessages(_ input: [UInt8]) -> Outcome {
        var decoder = MessageDecoder(maxMessageBytes: 1 << 20)
        var outcome = Outcome(decoded: 0)
        let (first, second) = split(input)
        for piece in [first, second] {
            decoder.feed(piece)
            do throws(ProtocolViolation) {
                while try decoder.next() != nil { outcome.decoded += 1 }
            } catch {
                outcome.rejection = "\(error)"
                return outcome
            }
        }
        return outcome
    }

    /// An input starting with a tranlog file's magic is a file, read by the cursor (header, chain
    /// and torn-tail rules) on a simulated disk; any other is frames, decoded one after another.
    static func tranlogFrames(_ input: [UInt8]) -> Outcome {
        input.starts(with: FileHeader.magic) ? tranlogFile(input) : frames(input)
    }

    private static func frames(_ input: [UInt8]) -> Outcome {
        var outcome = Outcome(decoded: 0)
        var position = 0
        framing: while position < input.count {
            switch RecordFrame.decode(input[position...]) {
            case .record(let record):
                outcome.decoded += 1
                position += record.frame.count
            case .needMoreBytes:
                break framing
            case .invalid(let defect):
                outcome.rejection = "\(defect)"
                break framing
            }
        }
        return outcome
    }

    private static func tranlogFile(_ input: [UInt8]) -> Outcome {
        var outcome = Outcome(decoded: 0)
        let directory = FilePath("/fuzz/tranlogs")
        let fileSystem = SimulatedFileSystem()
        do throws(TranlogError) {
            try fileSystem.createDirectory(directory)
            let file = try fileSystem.createFile(directory.appending(FileID.first.fileName), ownerOnly: false)
            try file.append(input[...])
            try file.sync()
            var cursor = TranlogCursor(directory: try TranlogDirectory.scan(directory, fileSystem: fileSystem), fileSystem: fileSystem)
            while try cursor.next() != nil { outcome.decoded += 1 }
        } catch {
            outcome.rejection = "\(error)"
        }
        return outcome
    }

    /// The HTTP server's request parser (or the client's response parser, for an input starting like
    /// a response), fed in two pieces, message after message.
    static func httpRequests(_ input: [UInt8]) -> Outcome {
        let parser = HTTPParsingProbe(parsingResponses: input.starts(with: Array("HTTP/".utf8)))
        var outcome = Outcome(decoded: 0)
        let (first, second) = split(input)
        for piece in [first, second] {
            switch parser.feed(piece) {
            case .messages(let count): outcome.decoded += count
            case .failed(let count, let failure):
                outcome.decoded += count
                outcome.rejection = failure
                return outcome
            }
        }
        return outcome
    }

    /// A backup file read and verified as `restore backup` and `backup verify` do.
    static func backup(_ input: [UInt8]) -> Outcome {
        let path = FilePath("/fuzz/input.backup")
        let fileSystem = SimulatedFileSystem()
        do {
            try fileSystem.createDirectory(FilePath("/fuzz"))
            let file = try fileSystem.createFile(path, ownerOnly: false)
            try file.append(input[...])
            try file.sync()
            let summary = try BackupReader.open([path], fileSystem: fileSystem).verify()
            return Outcome(decoded: Int(summary.objectCount))
        } catch {
            return Outcome(decoded: 0, rejection: "\(error)")
        }
    }
}
