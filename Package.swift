// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Understudy",
    platforms: [.macOS(.v15)],
    products: [],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // System C libraries: the only way C enters the package. Each is imported by exactly one module.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibUV", pkgConfig: "libuv", providers: [.apt(["libuv1-dev"])]),
        // http-parser ships no .pc file on Debian: the modulemap links it by name.
        .systemLibrary(name: "CHTTPParser", providers: [.apt(["libhttp-parser-dev"])]),
        .target(name: "Transport"),
        .target(name: "TransportUV", dependencies: ["CLibUV", "CHTTPParser", "Transport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "TransportTests", dependencies: ["Transport"]),
        .testTarget(name: "TransportUVTests", dependencies: ["TransportUV", "Transport"]),
    ]
)
