import CoreMetrics
import Metrics

/// What happens to tasks in this instance, recorded with swift-metrics into the factory it
/// is made with: the server's own Prometheus registry, or by default the process-wide
/// `MetricsSystem.factory` (which records nothing unless someone bootstrapped it).
///
/// The handles of the frequent events are made once; labels stay few and fixed: a task
/// status, an attempt's outcome, an error class (``UpstreamError/kind``).
package struct TaskMetrics: Sendable {
    /// How one attempt of a task ended.
    package enum AttemptOutcome: String, Sendable, CaseIterable {
        case completed
        case error
        /// Put back in the queue for another attempt.
        case retried
    }

    /// `promptline_tasks_finished_total{status}`: tasks this instance finished (a worker
    /// completed or failed them, or a client cancelled them here).
    static let finishedName = "promptline_tasks_finished_total"
    /// `promptline_task_attempt_duration_seconds{outcome}`: from a worker's claim of a task
    /// to the outcome of that attempt being stored.
    static let attemptDurationName = "promptline_task_attempt_duration_seconds"
    /// `promptline_task_retries_total{error_class}`: attempts put back in the queue, by cause.
    static let retriesName = "promptline_task_retries_total"

    private let factory: any MetricsFactory
    private let finished: [TaskStatus: Counter]
    private let attemptDurations: [AttemptOutcome: CoreMetrics.Timer]

    package init(factory: any MetricsFactory) {
        self.factory = factory
        var finished: [TaskStatus: Counter] = [:]
        for status in TaskStatus.allCases where status.isFinished {
            finished[status] = Counter(label: Self.finishedName, dimensions: [("status", status.rawValue)], factory: factory)
        }
        self.finished = finished
        var attemptDurations: [AttemptOutcome: CoreMetrics.Timer] = [:]
        for outcome in AttemptOutcome.allCases {
            attemptDurations[outcome] = CoreMetrics.Timer(
                label: Self.attemptDurationName, dimensions: [("outcome", outcome.rawValue)], factory: factory
            )
        }
        self.attemptDurations = attemptDurations
    }

    /// Counts a task that reached `status` (completed, error or cancelled) here.
    package func finished(_ status: TaskStatus) {
        finished[status]?.increment()
    }

    /// Records how one attempt ended and how long it took since the claim; a retry is
    /// counted by the class of the error that caused it.
    func attempt(_ outcome: AttemptOutcome, took duration: Duration, cause: UpstreamError?) {
        attemptDurations[outcome]?.record(duration: duration)
        switch outcome {
        case .completed: finished(.completed)
        case .error: finished(.error)
        case .retried:
            // Retries are rare next to tasks: their handle is looked up in the factory each time.
            let errorClass = cause?.kind ?? "unknown"
            Counter(label: Self.retriesName, dimensions: [("error_class", errorClass)], factory: factory).increment()
        }
    }
}
