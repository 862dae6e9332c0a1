import Foundation
import Hummingbird
import Logging
import NIOCore
import OpenAIUpstream
import PromptlineCore
import PromptlineRedis
import PromptlineSQLite
import RedisClient
import ServiceLifecycle

/// Builds and runs one Promptline server: the store, the upstream client, the worker pool
/// and the HTTP server, as services in one group.
public enum PromptlineApp {
    /// Runs until SIGINT or SIGTERM, then shuts down gracefully: the HTTP server stops
    /// taking requests first, then the worker pool drains within the grace period and hands
    /// back the rest.
    public static func run(settings: ServerSettings, logger: Logger) async throws {
        let opened = try await openStore(settings, logger: logger)
        let store = opened.store
        let client = OpenAIClient(configuration: .init(settings), logger: logger)
        let upstream = Upstream(
            client: client, gate: RateLimitGate(),
            cache: ResponseCache(configuration: .init(ttl: .seconds(settings.cacheTTL)))
        )
        let pool = WorkerPool(
            store: store,
            backend: CachingChatBackend(backend: client, cache: upstream.cache),
            gate: upstream.gate,
            configuration: .init(settings),
            logger: logger
        )
        let batches = BatchService(settings, tasks: store, documents: opened.documents, logger: logger)
        let app = Application(
            router: buildRouter(
                settings: settings, store: store, pool: pool, cluster: opened.registry, upstream: upstream, documents: opened.documents, logger: logger
            ),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? settings.port
                // Tests and scripts wait for this line to learn the port.
                FileHandle.standardOutput.write(Data("promptline listening on http://\(settings.host):\(port)\n".utf8))
            },
            logger: logger
        )
        let heartbeat = ClusterHeartbeat(
            id: settings.instanceID, registry: opened.registry, pool: pool,
            interval: .seconds(settings.heartbeatInterval), startedAt: Date(), logger: logger
        )
        let group = ServiceGroup(configuration: .init(
            // Started in this order, stopped in the reverse: the HTTP server first, then the
            // pool drains, then the instance leaves the cluster, the store last.
            services: [
                .init(service: opened.service), .init(service: heartbeat), .init(service: pool),
                .init(service: BatchSupervisor(service: batches, interval: .milliseconds(500), logger: logger)),
                .init(service: app),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        if settings.workers == 0 {
            logger.notice("running with no workers: tasks are taken and stored, but not processed here")
        }
        do {
            try await group.run()
        } catch {
            try? await client.shutdown()
            try? await opened.close()
            throw error
        }
        try await client.shutdown()
        try await opened.close()
        logger.info("stopped")
    }

    /// The store the settings name, with what runs beside it.
    struct OpenedStore {
        var store: any TaskStore
        /// The same store's records beside the tasks (the Batch API's files and batches).
        var documents: any DocumentStore
        /// What keeps the store going (checkpoints, the pub/sub subscription).
        var service: any Service
        var registry: any ClusterRegistry
        var close: @Sendable () async throws -> Void
    }

    static func openStore(_ settings: ServerSettings, logger: Logger) async throws -> OpenedStore {
        if let url = settings.redisURL {
            let redis = try RedisConfiguration(url: url)
            let store: RedisTaskStore
            do {
                store = try await RedisTaskStore.open(
                    .init(redis: redis, keyPrefix: settings.redisPrefix, retention: settings.retention),
                    logger: logger
                )
            } catch {
                throw SettingsError(problems: ["--redis-url / REDIS_URL: cannot use Redis at \(redis): \(error)"])
            }
            for warning in await store.configurationWarnings() {
                logger.warning("\(warning)")
            }
            logger.info("using the Redis store", metadata: ["redis": "\(redis)", "prefix": "\(settings.redisPrefix)"])
            return OpenedStore(
                store: store, documents: store, service: store,
                registry: RedisClusterRegistry(pool: store.pool, keyPrefix: settings.redisPrefix),
                close: { await store.close() }
            )
        }
        do {
            let store = try await SQLiteTaskStore.open(
                .init(directory: settings.dataDir, retention: settings.retention),
                logger: logger
            )
            return OpenedStore(store: store, documents: store, service: store, registry: LocalClusterRegistry(), close: { try await store.close() })
        } catch {
            throw SettingsError(problems: ["--data-dir / PROMPTLINE_DATA_DIR: cannot open the embedded store in '\(settings.dataDir)': \(error)"])
        }
    }

    /// What the server shares with the workers about the upstream.
    public struct Upstream: Sendable {
        public var client: OpenAIClient
        /// The upstream's "wait before calling again", honoured by workers and chat calls alike.
        public var gate: RateLimitGate
        public var cache: ResponseCache

        public init(client: OpenAIClient, gate: RateLimitGate, cache: ResponseCache) {
            self.client = client
            self.gate = gate
            self.cache = cache
        }
    }

    /// The routes, for the server and for in-process tests. Without `upstream` there is no
    /// OpenAI-compatible chat API, without `documents` no Batch API.
    public static func buildRouter(
        settings: ServerSettings, store: any TaskStore, pool: WorkerPool,
        cluster: any ClusterRegistry = LocalClusterRegistry(), upstream: Upstream? = nil, documents: (any DocumentStore)? = nil,
        logger: Logger = Logger(label: "promptline")
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        let tasks = TaskController(
            store: store,
            pool: pool,
            policy: SubmitPolicy(settings),
            maxBodySize: settings.maxBodySize
        )
        tasks.addRoutes(to: router)
        ClusterController(store: store, registry: cluster, storeKind: settings.redisURL == nil ? "embedded" : "redis")
            .addRoutes(to: router)
        if let upstream {
            ChatController(
                client: upstream.client, cache: upstream.cache, gate: upstream.gate,
                defaultModel: settings.model, maxBodySize: settings.maxBodySize
            ).addRoutes(to: router)
            router.get("/api/cache") { _, _ in
                CacheReport(enabled: upstream.cache.isEnabled, ttlSeconds: settings.cacheTTL, statistics: upstream.cache.statistics)
            }
        }
        if let documents {
            let batches = BatchService(settings, tasks: store, documents: documents, logger: logger)
            BatchController(service: batches, maxFileSize: settings.batchMaxFileSize, maxBodySize: settings.maxBodySize)
                .addRoutes(to: router)
        }
        DocsController().addRoutes(to: router)
        router.get("/health/live") { _, _ in ["status": "ok"] }
        router.get("/health/ready") { _, _ -> Response in
            do {
                _ = try await store.counts()
                return try JSONBody.response(["status": "ok"])
            } catch {
                throw APIError(.serviceUnavailable, "store unreachable: \(error)")
            }
        }
        return router
    }
}

extension ServerSettings {
    var retention: RetentionPolicy {
        RetentionPolicy(statusTTL: .seconds(statusTTL), resultTTL: .seconds(resultTTL))
    }
}

extension BatchService {
    init(_ settings: ServerSettings, tasks: any TaskStore, documents: any DocumentStore, logger: Logger) {
        self.init(
            tasks: tasks, documents: documents, defaults: SubmitPolicy(settings), maxRequests: settings.batchMaxRequests,
            retention: .seconds(settings.resultTTL), logger: logger
        )
    }
}

extension SubmitPolicy {
    init(_ settings: ServerSettings) {
        self.init(defaultModel: settings.model, defaultMaxTokens: settings.maxTokens, defaultTemperature: settings.temperature)
    }
}

extension WorkerPool.Configuration {
    init(_ settings: ServerSettings) {
        self.init(
            workers: settings.workers,
            lease: .seconds(settings.lease),
            retry: RetryPolicy(
                maxAttempts: settings.maxAttempts,
                baseDelay: .seconds(settings.retryBaseDelay),
                maxDelay: .seconds(settings.retryMaxDelay)
            ),
            shutdownGrace: .seconds(settings.shutdownGrace)
        )
    }
}

extension OpenAIClient.Configuration {
    init(_ settings: ServerSettings) {
        self.init(
            baseURL: settings.upstreamURL,
            apiKey: settings.upstreamAPIKey,
            timeout: .seconds(settings.upstreamTimeout),
            // SPEC §3: the timeout bounds the whole call as well as each gap between tokens.
            maximumStreamDuration: .seconds(settings.upstreamTimeout),
            streaming: settings.upstreamStreaming,
            maxConnections: max(settings.workers, 8)
        )
    }
}

/// `GET /api/cache`: what this instance's response cache has done since it started.
struct CacheReport: ResponseEncodable {
    var enabled: Bool
    var ttlSeconds: Double
    var hits: Int
    var misses: Int
    var coalesced: Int
    var bypassed: Int
    var entries: Int
    var bytes: Int

    init(enabled: Bool, ttlSeconds: Double, statistics: ResponseCache.Statistics) {
        self.enabled = enabled
        self.ttlSeconds = ttlSeconds
        hits = statistics.hits
        misses = statistics.misses
        coalesced = statistics.coalesced
        bypassed = statistics.bypassed
        entries = statistics.entries
        bytes = statistics.bytes
    }

    enum CodingKeys: String, CodingKey {
        case enabled, hits, misses, coalesced, bypassed, entries, bytes
        case ttlSeconds = "ttl_seconds"
    }
}
