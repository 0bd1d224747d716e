// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Steward",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "steward", targets: ["steward"]),
        .executable(name: "steward-bench", targets: ["steward-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // SHA-256 of every loaded file: BoringSSL's SHA-extension code is ~9x the Swift rounds it replaced (BENCHMARKS.md).
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // `steward serve`: the data API (Hummingbird 2), graceful shutdown (service-lifecycle), TLS (nio-ssl).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        .systemLibrary(
            name: "CNCurses",
            providers: [.apt(["libncursesw5-dev"])]
        ),
        .target(
            name: "StewardCatalog",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                // The C API for the busy timeout around a journal-mode switch.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                // The privacy vault: AES-GCM, HMAC and HKDF (Vault.swift).
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // steward.yml: typed settings and their validation; the engine's vocabulary (countries, date
        // formats, patterns) comes in through `ConfigVocabulary`.
        .target(
            name: "StewardConfig",
            dependencies: ["StewardCatalog", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "StewardPipeline",
            dependencies: [
                "StewardCatalog", "StewardConfig",
                // The C API directly for the bulk-load statements (see BENCHMARKS.md).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The demo generator: five systems' sources, a roadmap and the truth, deterministic for a seed.
        .target(
            name: "StewardDemo",
            dependencies: ["StewardCatalog"]
        ),
        .target(
            name: "StewardIdentity",
            dependencies: ["StewardCatalog", "StewardConfig", "StewardPipeline",
                           // The C API directly for the catalog passes' bulk inserts (BulkInsert.swift).
                           .product(name: "GRDBSQLite", package: "GRDB.swift")]
        ),
        // Activation (issue 20): traits, consent, audiences (the rule language's evaluator), destinations and sync.
        .target(
            name: "StewardActivation",
            // StewardMetrics: the webhook client (AlertNotifier.post: no redirects followed) destinations reuse.
            dependencies: ["StewardCatalog", "StewardConfig", "StewardIdentity", "StewardPipeline", "StewardMetrics"]
        ),
        .target(
            name: "StewardMetrics",
            // StewardIdentity: the customer match rate is defined once there (`MatchRate`).
            dependencies: ["StewardCatalog", "StewardConfig", "StewardPipeline", "StewardRoadmap", "StewardIdentity"]
        ),
        .target(
            name: "StewardRoadmap",
            dependencies: ["StewardCatalog"]
        ),
        .target(
            name: "StewardConsole",
            // StewardActivation: the Audiences pane's typed reads (audiences, lift, syncs).
            dependencies: ["StewardCatalog", "StewardConfig", "StewardIdentity", "StewardMetrics", "StewardRoadmap", "StewardActivation", "CNCurses",
                           .product(name: "Yams", package: "Yams")]
        ),
        // The data API behind `steward serve`: HTTP over the engine's typed queries (no SQL here).
        .target(
            name: "StewardServer",
            dependencies: ["StewardCatalog", "StewardConfig", "StewardIdentity", "StewardMetrics", "StewardPipeline", "StewardRoadmap",
                           "StewardActivation",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdCore", package: "hummingbird"),
                           .product(name: "HummingbirdTLS", package: "hummingbird"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Yams", package: "Yams"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl")]
        ),
        .executableTarget(
            name: "steward",
            dependencies: [
                "StewardCatalog", "StewardPipeline", "StewardConsole", "StewardIdentity", "StewardMetrics", "StewardRoadmap",
                "StewardDemo", "StewardConfig", "StewardServer", "StewardActivation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "steward-bench",
            dependencies: ["StewardCatalog", "StewardPipeline", "StewardConsole", "StewardIdentity", "StewardMetrics", "StewardRoadmap",
                           "StewardDemo", "StewardConfig", "StewardActivation"]
        ),
        .testTarget(
            name: "StewardTests",
            dependencies: ["StewardCatalog", "StewardPipeline", "StewardConsole", "StewardIdentity", "StewardMetrics",
                           "StewardRoadmap", "StewardDemo", "StewardConfig", "StewardServer", "StewardActivation", "steward"]
        ),
    ]
)
