import Crypto

/// The shared secret both nodes read from their key file; the caller passes its bytes. During a key
/// rotation it also holds the other key (`accepting(_:)`): proofs under either verify, and what
/// answers a peer is signed under the key that peer used (`matching`); a node's own hellos and
/// requests are signed under the first key only.
public struct ReplicationKey: Sendable {
    private let bytes: [UInt8]
    /// Keys accepted besides this one during a rotation; nothing is signed with them unless a peer used them.
    private var alsoAccepted: [[UInt8]] = []

    /// At least 16 bytes: a shorter key is guessable, which would make the proof decorative.
    public init(bytes: [UInt8]) {
        precondition(bytes.count >= 16, "a replication key is at least 16 bytes")
        self.bytes = bytes
    }

    /// This key (which signs), with `others` accepted as well: a rotation.
    public func accepting(_ others: [ReplicationKey]) -> ReplicationKey {
        var key = self
        key.alsoAccepted += others.flatMap { [$0.bytes] + $0.alsoAccepted }
        return key
    }

    private var symmetricKey: SymmetricKey { SymmetricKey(data: bytes) }

    /// The HMAC-SHA256 of `message` under this key: every proof a node sends.
    func code(for message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: symmetricKey))
    }

    /// Fresh random bytes from the system's generator: challenges, nonces, pin ids.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// The accepted key (this one first) under which `code` authenticates `message`, alone, so that
    /// the answer is signed under it; nil if none. Each comparison takes the same time wherever the
    /// bytes differ.
    func matching(code: [UInt8], authenticating message: [UInt8]) -> ReplicationKey? {
        ([bytes] + alsoAccepted).lazy.map(ReplicationKey.init(bytes:)).first {
            HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: message, using: $0.symmetricKey)
        }
    }
}

/// Proves a standby holds the key without sending it: the primary's fresh random challenge, followed
/// by the hello's fields, signed with HMAC-SHA256. Signing the fields too means a man in the middle
/// cannot replay a proof with another repository id or position.
public enum HelloProof {
    static let bytes = 32

    /// Random challenge bytes for a new connection.
    public static func makeChallenge() -> [UInt8] { ReplicationKey.randomBytes(ReplicationProtocol.challengeBytes) }

    /// `hello` with its proof for `challenge`.
    public static func sign(_ hello: Hello, challenge: [UInt8], key: ReplicationKey) -> Hello {
        var signed = hello
        signed.proof = key.code(for: challenge + MessageCodec.helloFields(hello))
        return signed
    }

    /// Whether `hello.proof` is right under one of the accepted keys.
    public static func verify(_ hello: Hello, challenge: [UInt8], key: ReplicationKey) -> Bool {
        matchingKey(hello, challenge: challenge, key: key) != nil
    }

    /// The accepted key the standby signed `hello` with, to answer it under; nil: a wrong key.
    public static func matchingKey(_ hello: Hello, challenge: [UInt8], key: ReplicationKey) -> ReplicationKey? {
        key.matching(code: hello.proof, authenticating: challenge + MessageCodec.helloFields(hello))
    }
}

/// Proves the primary holds the key too (mutual authentication): the standby's fresh challenge from
/// its hello, followed by the welcome's fields, signed with HMAC-SHA256 under a label of its own, so
/// no hello proof can pass for a welcome's. A standby applies nothing from a primary whose welcome
/// does not verify: anyone answering on the primary's address could otherwise feed it records.
public enum WelcomeProof {
    private static let label = Array("USREPL welcome".utf8)

    public static func sign(_ welcome: Welcome, challenge: [UInt8], key: ReplicationKey) -> Welcome {
        var signed = welcome
        signed.proof = key.code(for: signedBytes(welcome, challenge))
        return signed
    }

    public static func verify(_ welcome: Welcome, challenge: [UInt8], key: ReplicationKey) -> Bool {
        key.matching(code: welcome.proof, authenticating: signedBytes(welcome, challenge)) != nil
    }

    private static func signedBytes(_ welcome: Welcome, _ challenge: [UInt8]) -> [UInt8] {
        label + challenge + MessageCodec.welcomeFields(welcome)
    }
}
