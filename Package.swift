// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Promptline",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "promptline", targets: ["promptline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // A task executor on a NIO event loop: requests, workers and their connections on one thread.
        .target(
            name: "EventLoopExecutor",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // Durations in the units other APIs count in, and exponential backoff: shared by the
        // Redis client, the mock upstream and PromptlineCore, which re-exports it to every
        // module above it.
        .target(name: "Timing"),
        // The task model, the store protocol, retry policy and the worker pool.
        .target(
            name: "PromptlineCore",
            dependencies: [
                "Timing",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The OpenAI-compatible chat-completions client (its own keep-alive HTTP/1.1 pool on NIO, SSE parsing).
        .target(
            name: "OpenAIUpstream",
            dependencies: [
                "PromptlineCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The embedded store: one SQLite file (GRDB, WAL).
        .target(
            name: "PromptlineSQLite",
            dependencies: [
                "PromptlineCore",
                "PromptlineKnowledge",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A Redis client on SwiftNIO: RESP3, pipelining, a connection pool, scripts, pub/sub.
        .target(
            name: "RedisClient",
            dependencies: [
                "Timing",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The Redis store: many instances share one queue.
        .target(
            name: "PromptlineRedis",
            dependencies: [
                "PromptlineCore",
                "RedisClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // HTTP routes, request/response types, settings and the application wiring.
        .target(
            name: "PromptlineServer",
            dependencies: [
                "PromptlineDocuments",
                "PromptlineKnowledge",
                "PromptlinePostgres",
                "PromptlineCore",
                "EventLoopExecutor",
                "OpenAIUpstream",
                "PromptlineSQLite",
                "PromptlineRedis",
                "RedisClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The OpenAPI document and the page at /docs, compiled into the binary as byte arrays.
            resources: [.embedInCode("Docs/openapi.json"), .embedInCode("Docs/docs.html")]
        ),
        // The OpenAI-compatible simulator behind `promptline mock-upstream`.
        .target(
            name: "MockUpstream",
            dependencies: [
                "Timing",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `promptline bench`: drives a server and a mock upstream and prints figures.
        .target(
            name: "PromptlineBench",
            dependencies: [
                "PromptlinePostgres",
                "PromptlineClient",
                "PromptlineCore",
                "PromptlineKnowledge",
                "PromptlineSQLite",
                "RedisClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The client of `promptline submit` and `promptline status`: input files, chunked
        // submission, waiting with progress, results.
        .target(
            name: "PromptlineClient",
            dependencies: [
                "PromptlineCore",
                "OpenAIUpstream",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Documents: text extraction (the `pdftotext` runner, HTML to text) and chunking by
        // estimated tokens.
        .target(
            name: "PromptlineDocuments",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Knowledge: the vector index protocol, the exact cosine scan, retrieval and the
        // grounded-answer prompt.
        .target(name: "PromptlineKnowledge"),
        // The vector index on PostgreSQL with pgvector, shared by every instance.
        .target(
            name: "PromptlinePostgres",
            dependencies: [
                "PromptlineKnowledge",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The store contracts: one suite every TaskStore (and every VectorIndex) must pass.
        .target(
            name: "PromptlineStoreContract",
            dependencies: ["PromptlineCore", "PromptlineKnowledge"]
        ),
        // For tests: a clock the test moves, and a TaskStore in memory that runs on it.
        .target(
            name: "PromptlineTesting",
            dependencies: ["PromptlineCore"]
        ),
        // Argument parsing and wiring only.
        .executableTarget(
            name: "promptline",
            dependencies: [
                "PromptlineServer",
                "MockUpstream",
                "PromptlineBench",
                "PromptlineClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Fuzz targets for the parsers (scripts/fuzz.sh builds them with libFuzzer); in the
        // normal build each replays the files it is given: the seed corpus and every finding.
        .target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"),
        .executableTarget(
            name: "FuzzRESP",
            dependencies: ["FuzzSupport", "RedisClient", .product(name: "NIOCore", package: "swift-nio")],
            path: "Fuzz/FuzzRESP"
        ),
        .executableTarget(name: "FuzzSSE", dependencies: ["FuzzSupport", "OpenAIUpstream"], path: "Fuzz/FuzzSSE"),
        .executableTarget(name: "FuzzJSON", dependencies: ["FuzzSupport", "PromptlineCore"], path: "Fuzz/FuzzJSON"),
        .executableTarget(name: "FuzzMultipart", dependencies: ["FuzzSupport", "PromptlineServer"], path: "Fuzz/FuzzMultipart"),
        .testTarget(name: "TimingTests", dependencies: ["Timing"]),
        .testTarget(
            name: "PromptlineCoreTests",
            dependencies: [
                "PromptlineCore",
                "PromptlineTesting",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "PromptlineTestingTests",
            dependencies: ["PromptlineTesting", "PromptlineStoreContract"]
        ),
        .testTarget(name: "OpenAIUpstreamTests", dependencies: ["OpenAIUpstream", "MockUpstream", "EventLoopExecutor"]),
        .testTarget(
            name: "PromptlineSQLiteTests",
            dependencies: ["PromptlineSQLite", "PromptlineStoreContract"]
        ),
        .testTarget(
            name: "PromptlineServerTests",
            dependencies: [
                "PromptlineServer",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "MockUpstreamTests", dependencies: ["MockUpstream"]),
        .testTarget(name: "PromptlineClientTests", dependencies: ["PromptlineClient", "PromptlineCore"]),
        .testTarget(
            name: "RedisClientTests",
            dependencies: [
                "RedisClient",
                "EventLoopExecutor",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "PromptlineDocumentsTests", dependencies: ["PromptlineDocuments"]),
        .testTarget(name: "PromptlineKnowledgeTests", dependencies: ["PromptlineKnowledge"]),
        .testTarget(
            name: "PromptlineRedisTests",
            dependencies: ["PromptlineRedis", "PromptlineStoreContract", "RedisClient"]
        ),
        .testTarget(
            name: "PromptlinePostgresTests",
            dependencies: ["PromptlinePostgres", "PromptlineStoreContract"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
