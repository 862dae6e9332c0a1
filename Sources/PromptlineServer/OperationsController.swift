import Hummingbird
import PromptlineCore

/// The routes an operator and a load balancer use: `/health/live`, `/health/ready`,
/// `/metrics` and `/api/cache`.
struct OperationsController: Sendable {
    let store: any TaskStore
    /// `embedded` or `redis`, as readiness reports it.
    let storeKind: String
    let pool: WorkerPool<ContinuousClock>
    /// The response cache; `nil` where there is no upstream (and no `/api/cache`).
    let cache: ResponseCache?
    let cacheTTL: Double
    let metrics: PromptlineMetrics

    func addRoutes(to router: Router<PromptlineRequestContext>) {
        router.get("/health/live") { _, _ in ["status": "ok"] }
        router.get("/health/ready") { _, _ in try await ready() }
        router.get("/metrics") { _, _ in await scrape() }
        if let cache {
            router.get("/api/cache") { _, _ in
                CacheReport(enabled: cache.isEnabled, ttlSeconds: cacheTTL, statistics: cache.statistics)
            }
        }
    }

    /// Ready while the store answers.
    func ready() async throws -> Response {
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

    func scrape() async -> Response {
        let text = await metrics.scrape(store: store, pool: pool, cache: cache)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: ResponseBody(byteBuffer: text)
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
