import Transport
import TransportUV

/// What a run does: the node, how many connections, what they write, when to stop.
struct LoadPlan: Sendable {
    enum Limit: Sendable {
        case duration(Duration)
        case commits(Int)
    }

    var address: SocketAddress
    var clients: Int
    var valueBytes: Int
    var keys: Int
    var limit: Limit
    /// Commits per second across all clients (open loop); nil: each client sends its next request as
    /// soon as the previous response arrives (closed loop).
    var rate: Double?
    /// A request with no response after this fails its connection.
    var requestTimeout: Duration = .seconds(30)
}

/// `PUT /objects/load-N` requests. The value is random, generated once: it cannot be compressed away,
/// and every request shares its storage.
struct PutRequests {
    private let value: [UInt8]

    init(plan: LoadPlan) {
        var generator = SystemRandomNumberGenerator()
        value = (0..<plan.valueBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    func request(key: Int) -> HTTPClientRequest {
        HTTPClientRequest(method: "PUT", target: "/objects/load-\(key)", body: value)
    }
}

/// SplitMix64: a fast, seedable generator for key choice (the system generator is a syscall per call).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
