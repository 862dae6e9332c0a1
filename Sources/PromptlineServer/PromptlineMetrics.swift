import CoreMetrics
import NIOCore
import PromptlineCore
import Prometheus
import Synchronization

/// One server's metrics, answered by `GET /metrics` in Prometheus' text format.
///
/// Each server (and each in-process test) has a registry of its own: the process-wide
/// `MetricsSystem` is never bootstrapped. ``factory`` is the swift-metrics factory handed
/// to what records events as they happen (the worker pool, the upstream client, the
/// rate-limit gate, the HTTP middleware, cancellations); what is a state rather than an
/// event (the queue, the busy workers, the response cache's counts) is read at scrape time.
package final class PromptlineMetrics: Sendable {
    package let registry: PrometheusCollectorRegistry
    package let factory: PrometheusMetricsFactory
    /// The cache's counts at the last scrape: the counters get what happened since.
    private let cacheCounted = Mutex(ResponseCache.Statistics())

    /// Buckets of every duration histogram, in seconds: from a fast route to a slow answer.
    static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2_500),
        .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120),
    ]

    package init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.durationBuckets
        self.factory = factory
    }

    /// Reads the figures of the moment into the registry and answers its text.
    ///
    /// The queue depth is the store's: instances sharing a Redis all report the same queue.
    /// When the store does not answer, `promptline_store_up` is 0 and the queue figures keep
    /// their last values.
    func scrape(store: any TaskStore, pool: WorkerPool<ContinuousClock>, cache: ResponseCache?) async -> ByteBuffer {
        do {
            let counts = try await store.counts()
            for status in TaskStatus.allCases {
                set("promptline_queue_tasks", [("status", status.rawValue)], to: counts[status])
            }
            set("promptline_store_up", to: 1)
        } catch {
            set("promptline_store_up", to: 0)
        }
        set("promptline_workers", to: pool.workers)
        set("promptline_tasks_in_flight", to: pool.busyWorkers)
        if let cache { countCache(cache) }
        return ByteBuffer(bytes: registry.emitToBuffer())
    }

    /// Adds to `promptline_cache_requests_total{outcome}` what the cache served since the
    /// last scrape, and sets its size.
    private func countCache(_ cache: ResponseCache) {
        let statistics = cacheCounted.withLock { counted in
            // Read under this lock, so that two scrapes at once never count anything twice.
            let statistics = cache.statistics
            let served: [(ResponseCache.Outcome, Int)] = [
                (.hit, statistics.hits - counted.hits), (.miss, statistics.misses - counted.misses),
                (.coalesced, statistics.coalesced - counted.coalesced), (.bypass, statistics.bypassed - counted.bypassed),
            ]
            for (outcome, count) in served {
                Counter(label: "promptline_cache_requests_total", dimensions: [("outcome", outcome.rawValue)], factory: factory)
                    .increment(by: count)
            }
            counted = statistics
            return statistics
        }
        set("promptline_cache_entries", to: statistics.entries)
        set("promptline_cache_bytes", to: statistics.bytes)
    }

    private func set(_ name: String, _ labels: [(String, String)] = [], to value: Int) {
        Gauge(label: name, dimensions: labels, factory: factory).record(value)
    }
}
