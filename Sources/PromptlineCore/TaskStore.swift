import Foundation

/// What a store answers to a batch submission.
package enum EnqueueOutcome: Sendable, Hashable {
    /// The batch was stored, all of it, durably.
    case stored([String])
    /// The idempotency key was seen before: these are the ids it stored then; nothing new was queued.
    case duplicate([String])

    package var ids: [String] {
        switch self {
        case .stored(let ids), .duplicate(let ids): ids
        }
    }
}

/// What a store answers to a cancellation.
package enum CancelOutcome: Sendable, Hashable {
    case cancelled
    case alreadyFinished(TaskStatus)
    case notFound
}

/// How many tasks are in each state.
package struct QueueCounts: Sendable, Hashable, Codable {
    package var queued: Int
    package var processing: Int
    package var completed: Int
    package var error: Int
    package var cancelled: Int

    package init(queued: Int = 0, processing: Int = 0, completed: Int = 0, error: Int = 0, cancelled: Int = 0) {
        self.queued = queued
        self.processing = processing
        self.completed = completed
        self.error = error
        self.cancelled = cancelled
    }
}

extension QueueCounts {
    /// How many tasks are in `status`.
    package subscript(status: TaskStatus) -> Int {
        switch status {
        case .queued: queued
        case .processing: processing
        case .completed: completed
        case .error: error
        case .cancelled: cancelled
        }
    }
}

/// Where tasks live: the queue, the leases and the results.
///
/// Every store (embedded SQLite, Redis) implements this one protocol and passes the one
/// contract suite in `PromptlineStoreContract`. Every state change after a claim takes the
/// claim's ``TaskLease`` and does nothing (answers `false`) when the lease is no longer the
/// current one: that is what keeps a worker that lost its lease from overwriting anything.
package protocol TaskStore: Sendable {
    /// Stores a batch, all or nothing. With an idempotency key already seen, stores nothing
    /// and answers the ids stored the first time.
    func enqueue(_ tasks: [NewTask], idempotencyKey: String?) async throws -> EnqueueOutcome

    /// Takes up to `limit` queued tasks whose time has come, highest priority then oldest
    /// first, each with a new lease of `lease` and a new fencing token.
    func claim(limit: Int, lease: Duration) async throws -> [ClaimedTask]

    /// Extends the leases still held; answers the ids whose lease is still current.
    func renew(_ leases: [TaskLease], lease: Duration) async throws -> Set<String>

    /// Records progress (0...100) of a task in flight.
    func reportProgress(_ lease: TaskLease, percent: Int) async throws -> Bool

    /// Marks the task `completed` with its answer.
    func complete(_ lease: TaskLease, result: TaskResult) async throws -> Bool

    /// Marks the task `error` with a human-readable cause.
    func fail(_ lease: TaskLease, error: String) async throws -> Bool

    /// Puts the task back in the queue, to be taken up no sooner than `delay` from now;
    /// the attempt counts, `error` keeps the cause for readers.
    func retry(_ lease: TaskLease, after delay: Duration, error: String) async throws -> Bool

    /// Hands tasks back to the queue at once without counting the attempt (a clean
    /// shutdown). Answers how many were handed back.
    func release(_ leases: [TaskLease]) async throws -> Int

    /// Cancels a task that has not finished.
    func cancel(id: String) async throws -> CancelOutcome

    /// Reads tasks; unknown and expired ids are absent from the answer.
    func tasks(ids: [String]) async throws -> [String: TaskRecord]

    /// Takes back tasks whose lease ran out: to the queue, or — when they have been
    /// delivered `maxAttempts` times already — to `error` as dead letters. Answers how many.
    func reclaimExpiredLeases(maxAttempts: Int) async throws -> Int

    /// Deletes what has expired. Answers how many tasks were removed.
    func purgeExpired() async throws -> Int

    /// Returns when work may be waiting, or after `timeout` at the latest.
    func waitForWork(timeout: Duration) async

    /// How many tasks are in each state.
    func counts() async throws -> QueueCounts

    /// How many of the tasks an owner submitted have not finished yet (queued or processing).
    func unfinishedCount(owner: String) async throws -> Int
}

/// Expiry times for what a store keeps.
package struct RetentionPolicy: Sendable, Hashable {
    /// How long a finished task that did not complete (error, cancelled) stays readable.
    package var statusTTL: Duration
    /// How long a completed task and its result stay readable.
    package var resultTTL: Duration

    package init(statusTTL: Duration = .seconds(86_400), resultTTL: Duration = .seconds(604_800)) {
        self.statusTTL = statusTTL
        self.resultTTL = resultTTL
    }
}
