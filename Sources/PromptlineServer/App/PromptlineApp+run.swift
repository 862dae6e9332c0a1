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

extension PromptlineApp {
    /// Runs until SIGINT or SIGTERM, then shuts down gracefully: the HTTP server stops
    /// taking requests first, then the worker pool drains within the grace period and hands
    /// back the rest; the clients and the store are closed last (``ResourceCloser``).
    package static func run(settings: ServerSettings, logger: Logger) async throws {
        let opened = try await openStore(settings, logger: logger)
        let access = AccessControl(keys: KeyRing(documents: opened.documents), meter: opened.usage, tasks: opened.store)
        do {
            if try await !access.anyKeys() {
                logger.warning("NO API KEYS EXIST: this server is OPEN, anyone who can reach it may use it. Make a key with `promptline keys create --name NAME`, and every /api and /v1 route will need it.")
            }
        } catch {
            // Nothing else is open yet.
            try? await opened.close()
            throw error
        }
        let store = opened.store
        let metrics = PromptlineMetrics()
        let client = OpenAIClient(configuration: .init(settings), logger: logger, metricsFactory: metrics.factory)
        let upstream = Upstream(
            client: client, gate: RateLimitGate(metricsFactory: metrics.factory),
            cache: ResponseCache(configuration: .init(ttl: .seconds(settings.cacheTTL)))
        )
        let summaries = (store as? any FlowStore).map { flows in
            SummaryService(settings, store: flows, documents: opened.documents, logger: logger)
        }
        let knowledge = try await openVectorIndex(settings, logger: logger)
        let vectorStores = knowledge.flatMap { knowledge in
            (store as? any FlowStore).map { flows in
                VectorStoreService(
                    settings, store: flows, documents: opened.documents, index: knowledge.index, embedder: client,
                    gate: upstream.gate, logger: logger
                )
            }
        }
        var steps: [String: any TaskStepHandler] = [:]
        if let summaries { steps[SummaryTaskID.namespace] = SummaryStepHandler(summaries: summaries) }
        if let vectorStores {
            steps[IngestionTaskID.namespace] = IngestionStepHandler(stores: vectorStores)
            steps[Grounding.handlerName] = GroundedStepHandler(answers: AnswerService(stores: vectorStores))
        }
        let pool = WorkerPool(
            store: store,
            backend: CachingChatBackend(backend: client, cache: upstream.cache),
            gate: upstream.gate,
            configuration: .init(settings),
            logger: logger,
            metricsFactory: metrics.factory,
            steps: steps
        )
        var batches = BatchService(settings, tasks: store, documents: opened.documents, metrics: metrics, logger: logger)
        batches.access = access
        let app = Application(
            router: buildRouter(
                settings: settings, store: store, pool: pool, cluster: opened.registry, upstream: upstream,
                documents: opened.documents, batches: batches, summaries: summaries, vectorStores: vectorStores, access: access, metrics: metrics,
                logger: logger
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
        var resources = [ResourceCloser.Resource(name: "the upstream client", close: { try await client.shutdown() })]
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: opened.service), .init(service: heartbeat), .init(service: pool),
            .init(service: BatchSupervisor(service: batches, interval: .milliseconds(500), logger: logger)),
        ]
        if let secret = settings.webhookSecret {
            services.append(.init(service: WebhookDispatcher(
                submissions: Submissions(documents: opened.documents, retention: .seconds(settings.resultTTL)),
                tasks: store, signature: WebhookSignature(secret: secret),
                resolver: WebhookResolver(policy: settings.webhookAllowHosts), eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                instanceID: settings.instanceID, configuration: .init(settings), logger: logger
            )))
        } else {
            logger.info("webhooks are off (no --webhook-secret / PROMPTLINE_WEBHOOK_SECRET): submissions with webhook_url are refused")
        }
        if let knowledge {
            resources.append(.init(name: "the vector index", close: knowledge.close))
            // Beside the store: up before the workers, down after they drain.
            if let service = knowledge.service { services.insert(.init(service: service), at: 1) }
        }
        resources.append(.init(name: "the store", close: opened.close))
        services.append(.init(service: app))
        let group = ServiceGroup(configuration: .init(
            // Started in this order, stopped in the reverse: the HTTP server first, then the
            // webhooks and batches, the pool drains, the instance leaves the cluster, the
            // store's own service, and the resources are closed last.
            services: [.init(service: ResourceCloser(resources: resources, logger: logger))] + services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        // Every setting, secrets masked, once the store has been found usable.
        logger.info("settings: \(settings)")
        if settings.workers == 0 {
            logger.notice("running with no workers: tasks are taken and stored, but not processed here")
        }
        try await group.run()
        logger.info("stopped")
    }

    /// Opens the store the settings name, hands its API keys to `body`, and closes it:
    /// `promptline keys` manages keys this way, with the same store flags as `serve`.
    package static func withKeyRing<T: Sendable>(
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
}
