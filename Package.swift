// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Understudy",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "understudy", targets: ["understudy"]),
        .library(name: "Tranlog", targets: ["Tranlog"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
    ],
    targets: [
        // System C libraries: the only way C enters the package. Each is imported by exactly one module.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibUV", pkgConfig: "libuv", providers: [.apt(["libuv1-dev"])]),
        // http-parser ships no .pc file on Debian: the modulemap links it by name.
        .systemLibrary(name: "CHTTPParser", providers: [.apt(["libhttp-parser-dev"])]),
        // TLS 1.3 on the replication and HTTP ports, driven through memory BIOs on the loop thread.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // The `understudy` binary's allocator: glibc's malloc made a standby's applier wait on arena
        // locks (docs/DECISIONS.md). The modulemap links it; imported by the executable alone, so
        // the test runner and sanitizer builds (whose malloc it would fight) keep their own.
        .systemLibrary(name: "CJemalloc", providers: [.apt(["libjemalloc-dev"])]),
        // CRC-32 with carry-less multiplication (Intel ISA-L): every tranlog frame, replication
        // message and extent block is checksummed; zlib's table-driven CRC was ~5% of a standby's
        // catch-up. No .pc file on Debian: the modulemap links it by name. Imported by Tranlog alone.
        .systemLibrary(name: "CISAL", providers: [.apt(["libisal-dev"])]),
        // glibc's posix_spawn with the GNU file actions its Swift module hides (chdir, closefrom):
        // child processes without Foundation's `Process` (docs/DECISIONS.md). Imported by Tranlog alone.
        .systemLibrary(name: "CSpawn"),

        // Positions, record and file codecs, group-commit writer, reader, directory scan, epoch history.
        .target(
            name: "Tranlog",
            dependencies: [
                "CZlib", "CISAL", "CSpawn", .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The repository: object table, commits, extents, checkpoints, recovery, epochs, data directory.
        .target(
            name: "Repository",
            dependencies: [
                "Tranlog",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HashTreeCollections", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The event-loop contract (loop, listener, connection, timer) and its deterministic fake.
        .target(name: "Transport"),
        // The only module that imports libuv, http-parser and OpenSSL: the loop thread, TCP, TLS, the HTTP server.
        .target(
            name: "TransportUV",
            dependencies: ["CLibUV", "CHTTPParser", "COpenSSL", "Transport", .product(name: "Logging", package: "swift-log")]
        ),
        // Wire protocol, shipper, receiver and lag accounting; knows only the Transport contract.
        .target(
            name: "Replication",
            dependencies: [
                "Tranlog", "Repository", "Transport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A node: composes repository and network into a primary; HTTP API, admin, metrics.
        .target(
            name: "Node",
            dependencies: [
                "Repository", "Tranlog", "Transport", "TransportUV", "Replication",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // Automatic failover: etcd's v3 API (through its JSON gateway) and the supervisor of a managed node.
        .target(
            name: "Cluster",
            dependencies: [
                "Node", "Repository", "Tranlog", "Transport", "TransportUV",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Test kit: the fault-injecting file system (simulated crashes, failed syncs, full disks).
        .target(name: "UnderstudyTesting", dependencies: ["Tranlog"]),
        // The decoders that read outside bytes, each behind one entry point: libFuzzer's (below) and
        // the regression tests'.
        .target(
            name: "FuzzTargets",
            dependencies: ["Replication", "Repository", "Tranlog", "TransportUV", "UnderstudyTesting", .product(name: "Logging", package: "swift-log")]
        ),
        // libFuzzer's binary when built with `-sanitize=fuzzer -DFUZZING` (scripts/fuzz.sh); otherwise
        // it writes the seed corpus and replays inputs.
        .executableTarget(name: "understudy-fuzz", dependencies: ["FuzzTargets"]),
        // The CLI: one file per verb, logic lives in the library modules.
        .executableTarget(
            name: "understudy",
            dependencies: [
                "Tranlog", "Repository", "Node", "Cluster", "Transport", "TransportUV", "CJemalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Benchmarks print figures; they never run in `swift test` (see docs/BENCHMARKS.md).
        .executableTarget(
            name: "understudy-bench",
            dependencies: [
                "Tranlog", "Repository", "UnderstudyTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // examples/: a load generator with a progress display (also the benchmark's HTTP client side).
        .executableTarget(
            name: "understudy-load",
            dependencies: [
                "Node", "Tranlog", "Transport", "TransportUV",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "examples/LoadGenerator"
        ),
        // examples/: a small client of the HTTP API (transfers with optimistic concurrency, reads on a standby).
        .executableTarget(
            name: "understudy-client-example",
            dependencies: [
                "Node", "Repository", "Tranlog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "examples/ClientExample"
        ),

        .testTarget(name: "TranlogTests", dependencies: ["Tranlog", "UnderstudyTesting"], exclude: ["Golden"]),
        .testTarget(name: "RepositoryTests", dependencies: ["Repository", "Tranlog", "UnderstudyTesting"]),
        .testTarget(name: "NodeTests", dependencies: ["Node", "Replication", "Repository", "Tranlog", "Transport", "TransportUV", "UnderstudyTesting"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport"]),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzTargets"], resources: [.copy("Inputs")]),
        .testTarget(name: "TransportUVTests", dependencies: ["TransportUV", "Transport", "UnderstudyTesting"]),
        .testTarget(name: "ReplicationTests", dependencies: ["Replication", "Repository", "Tranlog", "Transport", "UnderstudyTesting"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster"]),
        .testTarget(name: "CLITests", dependencies: ["Tranlog", "UnderstudyTesting", "Node", "Replication", "Repository", "Cluster", "Transport", "TransportUV"]),
    ]
)
