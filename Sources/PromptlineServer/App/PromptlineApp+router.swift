import Hummingbird
import Logging
import PromptlineCore

extension PromptlineApp {
    /// The routes, for the server and for in-process tests. Without `upstream` there is no
    /// OpenAI-compatible chat API, without `documents` no submissions' records and no
    /// files, without `batches` no Batch API, without
    /// `summaries` no summaries, without `vectorStores` the vector store routes answer 503, without `access` no API keys (everything is open). `metrics` is
    /// what `/metrics` answers; the routes count requests and cancellations into it.
    package static func buildRouter(
        settings: ServerSettings, store: any TaskStore, pool: WorkerPool<ContinuousClock>,
        cluster: any ClusterRegistry = LocalClusterRegistry(), upstream: Upstream? = nil, documents: (any DocumentStore)? = nil,
        batches: BatchService? = nil, summaries: SummaryService? = nil, vectorStores: VectorStoreService? = nil,
        access: AccessControl? = nil, metrics: PromptlineMetrics = PromptlineMetrics(),
        logger: Logger = Logger(label: "promptline")
    ) -> Router<PromptlineRequestContext> {
        let router = Router(context: PromptlineRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: HTTPMetricsMiddleware(factory: metrics.factory))
        router.add(middleware: ErrorMiddleware())
        if let access { router.add(middleware: AccessMiddleware(access: access, metricsKeyRequired: settings.metricsKeyRequired)) }
        let webhooks = WebhookResolver(policy: settings.webhookAllowHosts)
        let submissions = documents.map { Submissions(documents: $0, retention: .seconds(settings.resultTTL)) }
        EventsController(store: store, submissions: submissions, summaries: summaries).addRoutes(to: router)
        TaskController(
            store: store,
            pool: pool,
            policy: SubmitPolicy(settings),
            maxBodySize: settings.maxBodySize,
            access: access,
            metrics: TaskMetrics(factory: metrics.factory),
            submissions: submissions,
            acceptsWebhooks: settings.webhookSecret != nil,
            webhooks: webhooks,
            answers: vectorStores.map(AnswerService.init)
        ).addRoutes(to: router)
        let storeKind = settings.redisURL == nil ? "embedded" : "redis"
        ClusterController(store: store, registry: cluster, storeKind: storeKind).addRoutes(to: router)
        if let upstream {
            ChatController(
                client: upstream.client, cache: upstream.cache, gate: upstream.gate,
                defaultModel: settings.model, maxBodySize: settings.maxBodySize, policy: SubmitPolicy(settings), access: access
            ).addRoutes(to: router)
        }
        if let batches {
            BatchController(service: batches, maxBodySize: settings.maxBodySize).addRoutes(to: router)
        }
        if let documents {
            FilesController(
                files: FileService(documents: documents, retention: .seconds(settings.resultTTL)), batches: batches,
                maxBatchFileSize: settings.batchMaxFileSize, maxDocumentSize: settings.documentMaxSize
            ).addRoutes(to: router)
        }
        if let summaries {
            SummaryController(
                service: summaries, maxBodySize: settings.maxBodySize, submissions: submissions,
                acceptsWebhooks: settings.webhookSecret != nil, webhooks: webhooks
            ).addRoutes(to: router)
        }
        VectorStoresController(service: vectorStores, maxBodySize: settings.maxBodySize).addRoutes(to: router)
        if let upstream {
            AnswerController(
                service: vectorStores.map(AnswerService.init), client: upstream.client, gate: upstream.gate,
                policy: SubmitPolicy(settings), maxBodySize: settings.maxBodySize, access: access
            ).addRoutes(to: router)
        }
        DocsController().addRoutes(to: router)
        OperationsController(
            store: store, storeKind: storeKind, pool: pool, cache: upstream?.cache, cacheTTL: settings.cacheTTL, metrics: metrics
        ).addRoutes(to: router)
        return router
    }
}
