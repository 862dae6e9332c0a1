import Foundation
import PromptlineCore
import Synchronization

/// A ``TaskStore`` in memory, for tests: it passes the store contract, and its queue runs on
/// the clock it is given.
///
/// Delays, leases and expiry are measured on `C`, so a test that moves a ``TestClock`` moves
/// them too; the dates of a ``TaskRecord`` (`queuedAt`, `startedAt`, `finishedAt`) are wall
/// time, as a real store's are.
///
/// Besides a wake-up on new work, ``waitForWork(timeout:)`` returns when the earliest
/// delayed task comes due: a test that moves the clock past a retry's delay does not depend
/// on when its worker pool next looks at the queue.
///
/// It runs flows as the real stores do (see `InMemoryTaskStore+Flows.swift`).
package final class InMemoryTaskStore<C: Clock>: FlowStore where C.Duration == Duration {
    struct Entry {
        var record: TaskRecord
        /// Enqueue order: within a priority, the lower runs first.
        var sequence: Int
        var token: Int64 = 0
        /// While queued: when the task may be claimed.
        var notBefore: C.Instant
        /// While processing: when the lease runs out.
        var leaseEnds: C.Instant?
        /// Once finished: when the task is gone; `nil` while its parent has not finished.
        var expiresAt: C.Instant?
        /// The parent whose flow it is a child of.
        var parentID: String?
        /// While queued: a parent waiting for its children, or a child `maxParallel` holds
        /// back. Either is queued to readers, and not claimable.
        var blocked = false

        func isExpired(at now: C.Instant) -> Bool {
            expiresAt.map { $0 <= now } ?? false
        }

        /// Queued and not blocked: claimable once `notBefore` comes.
        var isClaimable: Bool {
            record.status == .queued && !blocked
        }

        /// Back to the queue, to be claimed no sooner than `notBefore`.
        mutating func requeue(notBefore: C.Instant) {
            record.status = .queued
            record.progress = 0
            leaseEnds = nil
            self.notBefore = notBefore
        }

        /// Finished for good: readable until `expiresAt` (`nil`: until its parent finishes).
        mutating func finish(expiresAt: C.Instant?) {
            record.finishedAt = Date()
            leaseEnds = nil
            blocked = false
            self.expiresAt = expiresAt
        }
    }

    struct State {
        var tasks: [String: Entry] = [:]
        /// The parents, by id.
        var flows: [String: Flow] = [:]
        var idempotencyKeys: [String: (ids: [String], expiresAt: C.Instant)] = [:]
        var nextSequence = 0
        var nextToken: Int64 = 0

        /// The task `lease` names, while that lease is its current one.
        func holder(of lease: TaskLease) -> Entry? {
            guard let entry = tasks[lease.id], entry.token == lease.token, entry.record.status == .processing else {
                return nil
            }
            return entry
        }

        /// Stores queued tasks, in order. With a parent, they are its children, and those from
        /// `blockedFrom` on are held back until siblings finish.
        mutating func insert(
            _ newTasks: [NewTask], now: C.Instant, parentID: String? = nil, blockedFrom: Int = .max
        ) {
            let queuedAt = Date()
            for (index, task) in newTasks.enumerated() {
                let record = TaskRecord(
                    id: task.id, status: .queued, request: task.request, priority: task.priority, metadata: task.metadata,
                    result: nil, error: nil, progress: 0, attempts: 0,
                    queuedAt: queuedAt, startedAt: nil, finishedAt: nil, usage: nil, owner: task.owner
                )
                tasks[task.id] = Entry(
                    record: record, sequence: nextSequence, notBefore: now, parentID: parentID, blocked: index >= blockedFrom)
                nextSequence += 1
            }
            if let parentID { flows[parentID]?.childIDs += newTasks.map(\.id) }
        }

        /// The ids an idempotency key stored, if it was seen and has not expired.
        func remembered(_ idempotencyKey: String?, now: C.Instant) -> [String]? {
            guard let idempotencyKey, let seen = idempotencyKeys[idempotencyKey], seen.expiresAt > now else { return nil }
            return seen.ids
        }

        /// Remembers the ids an idempotency key stored.
        mutating func remember(_ idempotencyKey: String?, ids: [String], until expiresAt: C.Instant) {
            guard let idempotencyKey else { return }
            idempotencyKeys[idempotencyKey] = (ids, expiresAt)
        }
    }

    package let clock: C
    package let retention: RetentionPolicy
    let state = Mutex(State())
    let workSignal = WakeUpSignal()
    private let claimObserver = Mutex<(@Sendable ([ClaimedTask]) -> Void)?>(nil)

    package init(clock: C, retention: RetentionPolicy = RetentionPolicy()) {
        self.clock = clock
        self.retention = retention
    }

    // MARK: - What tests look at

    /// When a queued task may be claimed; `nil` unless it is queued.
    package func notBefore(of id: String) -> C.Instant? {
        state.withLock { state in
            state.tasks[id].flatMap { $0.record.status == .queued ? $0.notBefore : nil }
        }
    }

    /// When the current lease of a task in flight runs out; `nil` unless it is processing.
    package func leaseEnds(of id: String) -> C.Instant? {
        state.withLock { $0.tasks[id]?.leaseEnds }
    }

    /// Runs `action` with the tasks of each claim that takes any, just before the claimer
    /// gets them: a test can make something happen between a claim and what follows it.
    package func whenClaimed(_ action: @escaping @Sendable ([ClaimedTask]) -> Void) {
        claimObserver.withLock { $0 = action }
    }

    // MARK: - TaskStore

    package func enqueue(_ tasks: [NewTask], idempotencyKey: String?) async throws -> EnqueueOutcome {
        guard !tasks.isEmpty else { return .stored([]) }
        let now = clock.now
        let keyExpiry = now.advanced(by: retention.resultTTL)
        let outcome = state.withLock { state -> EnqueueOutcome in
            if let stored = state.remembered(idempotencyKey, now: now) { return .duplicate(stored) }
            state.insert(tasks, now: now)
            let ids = tasks.map(\.id)
            state.remember(idempotencyKey, ids: ids, until: keyExpiry)
            return .stored(ids)
        }
        if case .stored = outcome { workSignal.signal() }
        return outcome
    }

    package func claim(limit: Int, lease: Duration) async throws -> [ClaimedTask] {
        guard limit > 0 else { return [] }
        let now = clock.now
        let startedAt = Date()
        let claimed = state.withLock { state in
            let due = state.tasks.values
                .filter { $0.isClaimable && $0.notBefore <= now }
                .sorted { ($0.record.priority, -$0.sequence) > ($1.record.priority, -$1.sequence) }
                .prefix(limit)
            return due.map { entry in
                var entry = entry
                state.nextToken += 1
                entry.token = state.nextToken
                entry.record.status = .processing
                entry.record.attempts += 1
                entry.record.progress = 0
                entry.record.startedAt = entry.record.startedAt ?? startedAt
                entry.leaseEnds = now.advanced(by: lease)
                state.tasks[entry.record.id] = entry
                return ClaimedTask(
                    lease: TaskLease(id: entry.record.id, token: entry.token),
                    request: entry.record.request,
                    attempt: entry.record.attempts
                )
            }
        }
        if !claimed.isEmpty, let observe = claimObserver.withLock({ $0 }) { observe(claimed) }
        return claimed
    }

    package func renew(_ leases: [TaskLease], lease: Duration) async throws -> Set<String> {
        let leaseEnds = clock.now.advanced(by: lease)
        var held = Set<String>()
        for taskLease in leases {
            let renewed = change(taskLease) { entry in entry.leaseEnds = leaseEnds }
            if renewed { held.insert(taskLease.id) }
        }
        return held
    }

    package func reportProgress(_ lease: TaskLease, percent: Int) async throws -> Bool {
        change(lease) { entry in entry.record.progress = min(max(percent, 0), 100) }
    }

    package func complete(_ lease: TaskLease, result: TaskResult) async throws -> Bool {
        let expiresAt = clock.now.advanced(by: retention.resultTTL)
        return finish(lease, cause: nil) { entry in
            entry.record.status = .completed
            entry.record.result = result.content
            entry.record.usage = result.usage
            entry.record.error = nil
            entry.record.progress = 100
            entry.finish(expiresAt: expiresAt)
        }
    }

    package func fail(_ lease: TaskLease, error: String) async throws -> Bool {
        let expiresAt = clock.now.advanced(by: retention.statusTTL)
        return finish(lease, cause: error) { entry in
            entry.record.status = .error
            entry.record.error = error
            entry.finish(expiresAt: expiresAt)
        }
    }

    package func retry(_ lease: TaskLease, after delay: Duration, error: String) async throws -> Bool {
        let notBefore = clock.now.advanced(by: max(delay, .zero))
        let retried = change(lease) { entry in
            entry.requeue(notBefore: notBefore)
            entry.record.error = error
        }
        if retried { workSignal.signal() }
        return retried
    }

    package func release(_ leases: [TaskLease]) async throws -> Int {
        let now = clock.now
        var released = 0
        for lease in leases {
            let handedBack = change(lease) { entry in
                entry.requeue(notBefore: now)
                entry.record.attempts -= 1
            }
            if handedBack { released += 1 }
        }
        if released > 0 { workSignal.signal() }
        return released
    }

    package func cancel(id: String) async throws -> CancelOutcome {
        let now = clock.now
        let expiresAt = now.advanced(by: retention.statusTTL)
        let (outcome, wake) = state.withLock { state -> (CancelOutcome, Bool) in
            guard var entry = state.tasks[id], !entry.isExpired(at: now) else { return (.notFound, false) }
            guard !entry.record.status.isFinished else { return (.alreadyFinished(entry.record.status), false) }
            // A new token: whoever holds the old lease can no longer change the task.
            state.nextToken += 1
            entry.token = state.nextToken
            entry.record.status = .cancelled
            entry.finish(expiresAt: expiresAt)
            state.tasks[id] = entry
            return (.cancelled, state.taskFinished(id, cause: "cancelled", now: now, statusExpiry: expiresAt))
        }
        if wake { workSignal.signal() }
        return outcome
    }

    package func tasks(ids: [String]) async throws -> [String: TaskRecord] {
        let now = clock.now
        return state.withLock { state in
            var records: [String: TaskRecord] = [:]
            for id in ids {
                if let entry = state.tasks[id], !entry.isExpired(at: now) { records[id] = entry.record }
            }
            return records
        }
    }

    package func reclaimExpiredLeases(maxAttempts: Int) async throws -> Int {
        let now = clock.now
        let expiresAt = now.advanced(by: retention.statusTTL)
        let (dead, requeued, wake) = state.withLock { state -> (Int, Int, Bool) in
            func leaseRanOut(_ entry: Entry) -> Bool {
                entry.record.status == .processing && entry.leaseEnds.map { $0 < now } ?? false
            }
            // Dead letters first: finishing one may cancel siblings whose lease ran out too.
            let deadLetters = state.tasks.values.filter { leaseRanOut($0) && $0.record.attempts >= maxAttempts }.map(\.record.id)
            for id in deadLetters {
                guard var entry = state.tasks[id] else { continue }
                entry.record.status = .error
                entry.record.error = "dead-lettered after \(entry.record.attempts) deliveries: the worker holding it stopped before finishing each time"
                entry.finish(expiresAt: expiresAt)
                state.tasks[id] = entry
            }
            var wake = false
            for id in deadLetters {
                let error = state.tasks[id]?.record.error
                wake = state.taskFinished(id, cause: error, now: now, statusExpiry: expiresAt) || wake
            }
            let lost = state.tasks.values.filter(leaseRanOut).map(\.record.id)
            for id in lost { state.tasks[id]?.requeue(notBefore: now) }
            return (deadLetters.count, lost.count, wake)
        }
        if requeued > 0 || wake { workSignal.signal() }
        return dead + requeued
    }

    package func purgeExpired() async throws -> Int {
        let now = clock.now
        return state.withLock { state in
            let expired = state.tasks.filter { $0.value.isExpired(at: now) }.keys
            for id in expired {
                state.tasks.removeValue(forKey: id)
                state.flows.removeValue(forKey: id)
            }
            state.idempotencyKeys = state.idempotencyKeys.filter { $0.value.expiresAt > now }
            return expired.count
        }
    }

    package func waitForWork(timeout: Duration) async {
        let now = clock.now
        let comesDue = state.withLock { state in
            state.tasks.values.lazy.filter(\.isClaimable).map(\.notBefore).min()
        }
        let deadline = min(now.advanced(by: timeout), comesDue ?? now.advanced(by: timeout))
        if deadline <= now { return }
        await workSignal.wait(until: deadline, clock: clock)
    }

    package func counts() async throws -> QueueCounts {
        let now = clock.now
        return state.withLock { state in
            var counts = QueueCounts()
            for entry in state.tasks.values where !entry.isExpired(at: now) {
                switch entry.record.status {
                case .queued: counts.queued += 1
                case .processing: counts.processing += 1
                case .completed: counts.completed += 1
                case .error: counts.error += 1
                case .cancelled: counts.cancelled += 1
                }
            }
            return counts
        }
    }

    package func unfinishedCount(owner: String) async throws -> Int {
        state.withLock { state in
            state.tasks.values.count { $0.record.owner == owner && !$0.record.status.isFinished }
        }
    }

    // MARK: - Helpers

    /// One fenced change: applies `body` only while `lease` is the task's current one.
    private func change(_ lease: TaskLease, _ body: (inout Entry) -> Void) -> Bool {
        state.withLock { state in
            guard var entry = state.holder(of: lease) else { return false }
            body(&entry)
            state.tasks[lease.id] = entry
            return true
        }
    }

    /// A fenced change that finishes the task (`body` gives it its final status), and tells
    /// its flow in the same step.
    private func finish(_ lease: TaskLease, cause: String?, _ body: (inout Entry) -> Void) -> Bool {
        let now = clock.now
        let statusExpiry = now.advanced(by: retention.statusTTL)
        let (finished, wake) = state.withLock { state -> (Bool, Bool) in
            guard var entry = state.holder(of: lease) else { return (false, false) }
            body(&entry)
            state.tasks[lease.id] = entry
            return (true, state.taskFinished(lease.id, cause: cause, now: now, statusExpiry: statusExpiry))
        }
        if wake { workSignal.signal() }
        return finished
    }
}

extension InMemoryTaskStore where C == ContinuousClock {
    /// A store on the continuous clock, as the store contract runs it.
    package convenience init(retention: RetentionPolicy = RetentionPolicy()) {
        self.init(clock: ContinuousClock(), retention: retention)
    }
}
