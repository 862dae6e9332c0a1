import AsyncHTTPClient
import EventLoopExecutor
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
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
        let metrics = PromptlineMetrics()
        let client = OpenAIClient(configuration: .init(settings), logger: logger, metricsFactory: metrics.factory)
        let upstream = Upstream(
            client: client, gate: RateLimitGate(metricsFactory: metrics.factory),
            cache: ResponseCache(configuration: .init(ttl: .seconds(settings.cacheTTL)))
        )
        let pool = WorkerPool(
            store: store,
            backend: CachingChatBackend(backend: client, cache: upstream.cache),
            gate: upstream.gate,
            configuration: .init(settings),
            logger: logger,
            metricsFactory: metrics.factory
        )
        let batches = BatchService(settings, tasks: store, documents: opened.documents, metrics: metrics, logger: logger)
        let access = AccessControl(keys: KeyRing(documents: opened.documents), meter: opened.usage, tasks: store)
        if try await !access.anyKeys() {
            logger.warning("NO API KEYS EXIST: this server is OPEN, anyone who can reach it may use it. Make a key with `promptline keys create --name NAME`, and every /api and /v1 route will need it.")
        }
        let app = Application(
            router: buildRouter(
                settings: settings, store: store, pool: pool, cluster: opened.registry, upstream: upstream,
                documents: opened.documents, access: access, metrics: metrics, logger: logger
            ),
            server: .loopBoundHTTP1,
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
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: opened.service), .init(service: heartbeat), .init(service: pool),
            .init(service: BatchSupervisor(service: batches, interval: .milliseconds(500), logger: logger)),
        ]
        var webhookClient: HTTPClient?
        if let secret = settings.webhookSecret {
            let webhooks = HTTPClient(
                eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                // A redirect is a failed delivery: the signed body goes where it was asked to, only.
                configuration: .init(redirectConfiguration: .disallow),
                backgroundActivityLogger: logger
            )
            webhookClient = webhooks
            services.append(.init(service: WebhookDispatcher(
                submissions: Submissions(documents: opened.documents, retention: .seconds(settings.resultTTL)),
                tasks: store, signature: WebhookSignature(secret: secret), client: webhooks,
                instanceID: settings.instanceID, configuration: .init(settings), logger: logger
            )))
        } else {
            logger.info("webhooks are off (no --webhook-secret / PROMPTLINE_WEBHOOK_SECRET): submissions with webhook_url are refused")
        }
        services.append(.init(service: app))
        let group = ServiceGroup(configuration: .init(
            // Started in this order, stopped in the reverse: the HTTP server first, then the
            // webhooks and batches, the pool drains, the instance leaves the cluster, the
            // store last.
            services: services,
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
            try? await webhookClient?.shutdown()
            try? await opened.close()
            throw error
        }
        try await client.shutdown()
        try await webhookClient?.shutdown()
        try await opened.close()
        logger.info("stopped")
    }

    /// Opens the store the settings name, hands its API keys to `body`, and closes it:
    /// `promptline keys` manages keys this way, with the same store flags as `serve`.
    public static func withKeyRing<T: Sendable>(
        settings: ServerSettings, logger: Logger, _ body: (KeyRing) async throws -> T
    ) async throws -> T {
        let opened = try await openStore(settings, logger: logger)
        do {
            let result = try await body(KeyRing(documents: opened.documents))
            try await opened.close()
            return result
        } catch {
            try? await opened.close()
            throw error
        }
    }

    /// The store the settings name, with what runs beside it.
    struct OpenedStore {
        var store: any TaskStore
        /// The same store's records beside the tasks (the Batch API's files and batches, API keys).
        var documents: any DocumentStore
        /// Where per-key usage is counted: the store itself when instances share it.
        var usage: any UsageMeter
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
                store: store, documents: store, usage: store, service: store,
                registry: RedisClusterRegistry(pool: store.pool, keyPrefix: settings.redisPrefix),
                close: { await store.close() }
            )
        }
        do {
            let store = try await SQLiteTaskStore.open(
                .init(directory: settings.dataDir, retention: settings.retention),
                logger: logger
            )
            return OpenedStore(
                store: store, documents: store, usage: LocalUsageMeter(), service: store,
                registry: LocalClusterRegistry(), close: { try await store.close() }
            )
        } catch {
            throw SettingsError(problems: ["--data-dir / PROMPTLINE_DATA_DIR: cannot open the embedded store in '\(settings.dataDir)': \(error)"])
        }
    }

    /// What the server shares with the workers about the upstream.
    public struct Upstream: Sendable {
        public var client: OpenAIClient
        /// The upstream's "wait before calling again", honoured by workers and chat calls alike.
        public var gate: RateLimitGate<ContinuousClock>
        public var cache: ResponseCache

        public init(client: OpenAIClient, gate: RateLimitGate<ContinuousClock>, cache: ResponseCache) {
            self.client = client
            self.gate = gate
            self.cache = cache
        }
    }

    /// The routes, for the server and for in-process tests. Without `upstream` there is no
    /// OpenAI-compatible chat API, without `documents` no Batch API, without `access` no
    /// API keys (everything is open). `metrics` is what `/metrics` answers; the routes count
    /// requests and cancellations into it.
    public static func buildRouter(
        settings: ServerSettings, store: any TaskStore, pool: WorkerPool<ContinuousClock>,
        cluster: any ClusterRegistry = LocalClusterRegistry(), upstream: Upstream? = nil, documents: (any DocumentStore)? = nil,
        access: AccessControl? = nil, metrics: PromptlineMetrics = PromptlineMetrics(), logger: Logger = Logger(label: "promptline")
    ) -> Router<PromptlineRequestContext> {
        let router = Router(context: PromptlineRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: HTTPMetricsMiddleware(factory: metrics.factory))
        router.add(middleware: ErrorMiddleware())
        if let access { router.add(middleware: AccessMiddleware(access: access)) }
        let submissions = documents.map { Submissions(documents: $0, retention: .seconds(settings.resultTTL)) }
        EventsController(store: store, submissions: submissions).addRoutes(to: router)
        let tasks = TaskController(
            store: store,
            pool: pool,
            policy: SubmitPolicy(settings),
            maxBodySize: settings.maxBodySize,
            access: access,
            metrics: TaskMetrics(factory: metrics.factory),
            submissions: submissions,
            acceptsWebhooks: settings.webhookSecret != nil
        )
        tasks.addRoutes(to: router)
        let storeKind = settings.redisURL == nil ? "embedded" : "redis"
        ClusterController(store: store, registry: cluster, storeKind: storeKind)
            .addRoutes(to: router)
        if let upstream {
            ChatController(
                client: upstream.client, cache: upstream.cache, gate: upstream.gate,
                defaultModel: settings.model, maxBodySize: settings.maxBodySize, policy: SubmitPolicy(settings), access: access
            ).addRoutes(to: router)
            router.get("/api/cache") { _, _ in
                CacheReport(enabled: upstream.cache.isEnabled, ttlSeconds: settings.cacheTTL, statistics: upstream.cache.statistics)
            }
        }
        if let documents {
            var batches = BatchService(settings, tasks: store, documents: documents, metrics: metrics, logger: logger)
            batches.access = access
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
                return try JSONBody.response(
                    ["status": "unavailable", "store": storeKind, "detail": "the task store does not answer: \(error)"],
                    status: .serviceUnavailable
                )
            }
        }
        router.get("/metrics") { _, _ -> Response in
            let text = await metrics.scrape(store: store, pool: pool, cache: upstream?.cache)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: ResponseBody(byteBuffer: text)
            )
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
    init(_ settings: ServerSettings, tasks: any TaskStore, documents: any DocumentStore, metrics: PromptlineMetrics, logger: Logger) {
        self.init(
            tasks: tasks, documents: documents, defaults: SubmitPolicy(settings), maxRequests: settings.batchMaxRequests,
            retention: .seconds(settings.resultTTL), logger: logger, metrics: TaskMetrics(factory: metrics.factory)
        )
    }
}

extension SubmitPolicy {
    init(_ settings: ServerSettings) {
        self.init(defaultModel: settings.model, defaultMaxTokens: settings.maxTokens, defaultTemperature: settings.temperature)
        maxPromptsPerBatch = settings.maxPrompts
        maxPromptLength = settings.maxPromptLength
        maxTokensCeiling = settings.maxTokensLimit
    }
}

extension WebhookDispatcher.Configuration {
    init(_ settings: ServerSettings) {
        self.init(
            timeout: .seconds(settings.webhookTimeout),
            maxAttempts: settings.webhookMaxAttempts,
            retryDelay: .seconds(settings.webhookRetryDelay)
        )
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
        // On Redis, the loops that also carry the store's and the upstream's connections: a
        // task then stays on one thread. The embedded store works on GRDB's own threads, and
        // workers on the loops measured 15 % more CPU per task there than on the global pool.
        if settings.redisURL != nil {
            executors = MultiThreadedEventLoopGroup.singleton.makeIterator().map { EventLoopTaskExecutor($0) }
        }
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
