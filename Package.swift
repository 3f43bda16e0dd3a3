// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "pipsqueak",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pipsqueak", targets: ["pipsqueak"]),
        .executable(name: "pipsqueak-sandbox", targets: ["pipsqueak-sandbox"]),
        .executable(name: "pipbench", targets: ["pipbench"]),
        .library(name: "PipsqueakCore", targets: ["PipsqueakCore"]),
        .library(name: "PipsqueakSandbox", targets: ["PipsqueakSandbox"]),
        .library(name: "PipsqueakWorker", targets: ["PipsqueakWorker"]),
        .library(name: "PipBench", targets: ["PipBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // Tiny C shim: only syscall wrappers and constants Glibc does not expose to Swift.
        .target(name: "PSShim"),

        // Shared vocabulary: errors, names, handler manifests, config, archives, atomic files.
        .target(
            name: "PipsqueakCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // Pre-exec container setup, Foundation-free so the single-threaded helper stays small.
        .target(name: "SandboxSetup", dependencies: ["PSShim"]),
        .executableTarget(name: "pipsqueak-sandbox", dependencies: ["SandboxSetup"]),

        // Linux mechanism seen from the worker: cgroups, spawning sandboxes, runtime channel.
        .target(
            name: "PipsqueakSandbox",
            dependencies: [
                "PSShim", "PipsqueakCore", "SandboxSetup",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
            ]
        ),

        // The Python runtime that runs inside every sandbox.
        .target(name: "PipsqueakRuntime", resources: [.copy("python")]),

        // The cache tiers: policy (pure, deterministic) and their state, with the Linux mechanism behind
        // protocols. Depends on the vocabulary only, so no policy can reach a syscall or HTTP.
        .target(
            name: "PipsqueakCache",
            dependencies: [
                "PipsqueakCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),

        // Packages: pip resolution and installation in sandboxes, the read-only store on disk.
        .target(
            name: "PipsqueakPackages",
            dependencies: [
                "PipsqueakCore", "PipsqueakCache", "PipsqueakSandbox", "SandboxSetup",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The worker: HTTP API, handler registry, services.
        .target(
            name: "PipsqueakWorker",
            dependencies: [
                "PipsqueakCore", "PipsqueakSandbox", "PipsqueakCache", "PipsqueakPackages", "PipsqueakRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Thin CLI on top of the libraries.
        .target(
            name: "PipsqueakCLI",
            dependencies: [
                "PipsqueakCore", "PipsqueakWorker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "pipsqueak", dependencies: ["PipsqueakCLI"]),

        // PipBench: package generator, PyPI mirror, workload client, package study.
        .target(
            name: "PipBench",
            dependencies: [
                "PipsqueakCore", "PipsqueakSandbox", "SandboxSetup",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "pipbench",
            dependencies: ["PipBench", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        .testTarget(
            name: "PipsqueakCoreTests",
            dependencies: [
                "PipsqueakCore",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SandboxTests",
            dependencies: [
                "PipsqueakSandbox", "SandboxSetup", "PipsqueakCore", "PipsqueakRuntime", "pipsqueak-sandbox",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "CacheTests", dependencies: ["PipsqueakCache", "PipsqueakCore"]),
        .testTarget(name: "PackagesTests", dependencies: ["PipsqueakPackages", "PipsqueakCore"]),
        .testTarget(name: "CLITests", dependencies: ["PipsqueakCLI", "PipsqueakCore"]),
        .testTarget(
            name: "WorkerTests",
            dependencies: [
                "PipsqueakWorker", "PipsqueakCore", "pipsqueak-sandbox",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "PipsqueakCore", "PipBench", "pipsqueak", "pipsqueak-sandbox",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "PipBenchTests",
            dependencies: [
                "PipBench", "PipsqueakCore", "pipsqueak-sandbox", "pipbench",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)
