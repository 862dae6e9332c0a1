import CoreMetrics
import Metrics
import PromptlineCore

/// What calls to the upstream record: `promptline_upstream_request_duration_seconds{outcome}`
/// (ok or error) and `promptline_upstream_errors_total{error_class}`, the class being
/// ``UpstreamError/kind`` (rate_limited, timeout, connection, server_error, …).
///
/// A relayed stream's duration ends when its head arrives; the stream's own failures are
/// counted as errors when they happen.
struct UpstreamMetrics: Sendable {
    private let factory: any MetricsFactory
    private let okDuration: CoreMetrics.Timer
    private let errorDuration: CoreMetrics.Timer

    init(factory: any MetricsFactory) {
        self.factory = factory
        okDuration = CoreMetrics.Timer(label: Self.durationName, dimensions: [("outcome", "ok")], factory: factory)
        errorDuration = CoreMetrics.Timer(label: Self.durationName, dimensions: [("outcome", "error")], factory: factory)
    }

    static let durationName = "promptline_upstream_request_duration_seconds"

    /// Records a call that started at `start` and ended now, with `failure` when it failed.
    func call(since start: ContinuousClock.Instant, failure: UpstreamError?) {
        (failure == nil ? okDuration : errorDuration).record(duration: ContinuousClock.now - start)
        if let failure { count(failure) }
    }

    /// Counts a failure by its class.
    func count(_ error: UpstreamError) {
        // Failures are rare next to calls: their handle is looked up in the factory each time.
        Counter(label: "promptline_upstream_errors_total", dimensions: [("error_class", error.kind)], factory: factory).increment()
    }
}
