import CoreMetrics
import Logging
import ServiceLifecycle
import Synchronization

/// The workers: take tasks from the store, send them upstream, record the outcome.
///
/// One dispatcher claims as many tasks as there are free workers (highest priority, then
/// oldest first) and runs each as a child task, so at most `workers` calls are in flight.
/// Beside it a maintenance loop renews the leases of the tasks in flight, writes their
/// progress, takes back tasks whose lease ran out and purges what has expired.
///
/// On graceful shutdown the pool stops claiming, lets the calls in flight finish for up to
/// `shutdownGrace`, then cancels the rest and hands their tasks back to the queue.
///
/// Leases, retries, the grace period and the gate's pauses are measured on `C`: the
/// server's pool runs on `ContinuousClock`, tests on a clock they move themselves.
package final class WorkerPool<C: Clock>: Service where C.Duration == Duration {
    /// How the pool works.
    package struct Configuration: Sendable {
        /// How many upstream calls may be in flight at once; 0 runs no workers (intake only).
        package var workers: Int
        /// How long a claim holds a task before another worker may take it up.
        package var lease: Duration
        package var retry: RetryPolicy
        /// How long in-flight calls may run on after shutdown begins.
        package var shutdownGrace: Duration
        /// How often progress of streaming tasks is written to the store.
        package var progressInterval: Duration
        /// How often the queue is looked at when nothing woke the dispatcher.
        package var idlePoll: Duration
        /// How often expired tasks are purged.
        package var purgeInterval: Duration
        /// Where tasks run, taken in turn. On the Redis store the server gives its event
        /// loops, so that a task and its store and upstream connections share a thread.
        /// Empty: Swift's global pool.
        package var executors: [any TaskExecutor] = []

        package init(
            workers: Int,
            lease: Duration = .seconds(60),
            retry: RetryPolicy = RetryPolicy(),
            shutdownGrace: Duration = .seconds(30),
            progressInterval: Duration = .milliseconds(500),
            idlePoll: Duration = .seconds(1),
            purgeInterval: Duration = .seconds(60)
        ) {
            self.workers = workers
            self.lease = lease
            self.retry = retry
            self.shutdownGrace = shutdownGrace
            self.progressInterval = progressInterval
            self.idlePoll = idlePoll
            self.purgeInterval = purgeInterval
        }

        /// How often leases in flight are renewed: a third of the lease, at most every 5 s.
        var renewInterval: Duration { min(lease / 3, .seconds(5)) }
    }

    /// A task being worked on.
    private struct InFlight {
        var lease: TaskLease
        var maxTokens: Int
        var claimedAt: C.Instant
        var percent = 0
        var reportedPercent = 0
    }

    private struct State {
        var inFlight: [String: InFlight] = [:]
        var shuttingDown = false
        var processed = 0
    }

    private let store: any TaskStore
    private let backend: any ChatBackend
    /// The handlers of job steps (``TaskStepHandler``), by the namespace of their task ids.
    private let steps: [String: any TaskStepHandler]
    private let gate: RateLimitGate<C>
    private let configuration: Configuration
    private let clock: C
    private let logger: Logger
    private let metrics: TaskMetrics
    private let state = Mutex(State())
    private let executorTurn = Atomic<Int>(0)
    /// Wakes the dispatcher when a worker becomes free or shutdown begins.
    private let workerFreed = WakeUpSignal()

    /// `metricsFactory` receives the pool's ``TaskMetrics``. The gate must run on the same
    /// `clock` as the pool.
    package init(
        store: any TaskStore, backend: any ChatBackend, gate: RateLimitGate<C>, configuration: Configuration, logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory, steps: [String: any TaskStepHandler] = [:], clock: C
    ) {
        self.store = store
        self.steps = steps
        self.backend = backend
        self.gate = gate
        self.configuration = configuration
        self.logger = logger
        self.metrics = TaskMetrics(factory: metricsFactory)
        self.clock = clock
    }

    /// Workers busy now.
    package var busyWorkers: Int { state.withLock { $0.inFlight.count } }
    /// Tasks this pool has finished (completed or failed for good) since it started.
    package var tasksProcessed: Int { state.withLock { $0.processed } }
    package var workers: Int { configuration.workers }

    package func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.maintain() }
                await self.dispatch(into: &group)
                await self.drain(within: configuration.shutdownGrace)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.state.withLock { $0.shuttingDown = true }
            self.workerFreed.signal()
        }
    }

    // MARK: - Dispatching

    private var isShuttingDown: Bool { state.withLock { $0.shuttingDown } || Task.isCancelled }

    private func dispatch(into group: inout DiscardingTaskGroup) async {
        guard configuration.workers > 0 else {
            while !isShuttingDown { await workerFreed.wait(timeout: .seconds(1), clock: clock) }
            return
        }
        var storeFailing = false
        while !isShuttingDown {
            let free = configuration.workers - busyWorkers
            guard free > 0 else {
                await workerFreed.wait(timeout: configuration.idlePoll, clock: clock)
                continue
            }
            // While the upstream has asked us to wait, claimed tasks would only sit; wait in
            // short steps so that shutdown is noticed.
            if let reopensAt = gate.closedUntil {
                try? await Task.sleep(until: min(reopensAt, clock.now + .seconds(1)), clock: clock)
                continue
            }
            do {
                let claimed = try await store.claim(limit: min(free, 256), lease: configuration.lease)
                if storeFailing {
                    logger.notice("the store answers again; workers resume")
                    storeFailing = false
                }
                guard !claimed.isEmpty else {
                    await store.waitForWork(timeout: configuration.idlePoll)
                    continue
                }
                let now = clock.now
                state.withLock { state in
                    for task in claimed {
                        state.inFlight[task.id] = InFlight(lease: task.lease, maxTokens: task.request.maxTokens, claimedAt: now)
                    }
                }
                for task in claimed {
                    group.addTask(executorPreference: nextExecutor()) { await self.process(task) }
                }
            } catch is CancellationError {
                return
            } catch {
                // An unreachable store pauses the workers; say so once, not every second.
                if !storeFailing {
                    logger.error("could not claim tasks; workers pause until the store answers", metadata: ["error": "\(error)"])
                }
                storeFailing = true
                try? await Task.sleep(for: .seconds(1), clock: clock)
            }
        }
    }

    /// The executor the next task runs on: ``Configuration/executors`` in turn.
    private func nextExecutor() -> (any TaskExecutor)? {
        guard !configuration.executors.isEmpty else { return nil }
        let turn = executorTurn.wrappingAdd(1, ordering: .relaxed).oldValue
        return configuration.executors[turn % configuration.executors.count]
    }

    /// Waits until nothing is in flight, or the grace period is over.
    private func drain(within grace: Duration) async {
        let deadline = clock.now + grace
        while busyWorkers > 0, clock.now < deadline, !Task.isCancelled {
            await workerFreed.wait(timeout: min(.milliseconds(100), deadline - clock.now), clock: clock)
        }
        let left = busyWorkers
        if left > 0 {
            logger.warning("grace period over; handing unfinished tasks back to the queue", metadata: ["count": "\(left)"])
        }
    }

    // MARK: - One task

    private func process(_ task: ClaimedTask) async {
        var logger = self.logger
        logger[metadataKey: "task_id"] = "\(task.id)"
        defer {
            state.withLock { _ = $0.inFlight.removeValue(forKey: task.id) }
            workerFreed.signal()
        }
        do {
            var request = task.request
            if let handler = handler(of: task) {
                switch try await handler.step(for: task) {
                case .call(let built):
                    request = built
                case .finish(let result):
                    try await record(task, .completed, logger: logger) { try await self.store.complete(task.lease, result: result) }
                    return
                case .perform(let call):
                    try await gate.waitUntilOpen()
                    let result = try await call()
                    try await record(task, .completed, logger: logger) { try await self.store.complete(task.lease, result: result) }
                    return
                case .waiting:
                    return
                }
            }
            try await gate.waitUntilOpen()
            let result = try await backend.complete(request) { [weak self] tokens in
                self?.noteProgress(of: task, tokens: tokens)
            }
            try await record(task, .completed, logger: logger) { try await self.store.complete(task.lease, result: result) }
        } catch let failure as TaskStepFailure where !Task.isCancelled {
            logger.info("step failed", metadata: ["error": "\(failure.message)"])
            do {
                try await record(task, .error, logger: logger) { try await self.store.fail(task.lease, error: failure.message) }
            } catch {
                logger.error("could not record the outcome; the lease will run out and the task go again", metadata: ["error": "\(error)"])
            }
        } catch let error as UpstreamError where !Task.isCancelled {
            await handle(error, of: task, logger: logger)
        } catch where Task.isCancelled || error is CancellationError {
            await handBack(task, logger: logger)
        } catch {
            let wrapped = UpstreamError(.invalidResponse, message: "internal error: \(error)")
            await handle(wrapped, of: task, logger: logger)
        }
    }

    /// The handler that says what a run of this task does: a grounded question's, or — for
    /// a task without messages, a job's step — the one of its id's namespace.
    private func handler(of task: ClaimedTask) -> (any TaskStepHandler)? {
        if task.request.grounding != nil { return steps[Grounding.handlerName] }
        return task.request.messages.isEmpty ? steps[String(task.namespace)] : nil
    }

    private func handle(_ error: UpstreamError, of task: ClaimedTask, logger: Logger) async {
        if let retryAfter = error.retryAfter {
            gate.pause(for: retryAfter)
            logger.notice("upstream asked every worker to wait", metadata: ["seconds": "\(retryAfter.seconds)"])
        }
        do {
            if configuration.retry.shouldRetry(error, attempt: task.attempt) {
                let delay = configuration.retry.delay(afterAttempt: task.attempt, retryAfter: error.retryAfter)
                logger.info("attempt failed; retrying", metadata: [
                    "attempt": "\(task.attempt)", "error_kind": "\(error.kind)", "delay_s": "\(delay.seconds)",
                ])
                try await record(task, .retried, cause: error, logger: logger) {
                    try await self.store.retry(task.lease, after: delay, error: error.description)
                }
            } else {
                logger.info("task failed", metadata: ["attempt": "\(task.attempt)", "error_kind": "\(error.kind)"])
                try await record(task, .error, cause: error, logger: logger) {
                    try await self.store.fail(task.lease, error: error.description)
                }
            }
        } catch {
            logger.error("could not record the outcome; the lease will run out and the task go again", metadata: ["error": "\(error)"])
        }
    }

    /// Runs one fenced store change; a `false` means the lease was lost meanwhile.
    ///
    /// While the store is unreachable the change is tried again every half second, for as
    /// long as the lease could still be held: an answer survives a short store outage
    /// instead of costing a second upstream call.
    private func record(
        _ task: ClaimedTask, _ outcome: TaskMetrics.AttemptOutcome, cause: UpstreamError? = nil, logger: Logger,
        _ change: () async throws -> Bool
    ) async throws {
        let gaveUpAt = clock.now + configuration.lease
        var changed: Bool
        while true {
            do {
                changed = try await change()
                break
            } catch let error as StoreUnavailableError where clock.now + .milliseconds(500) < gaveUpAt {
                logger.debug("store unreachable; recording the outcome again shortly", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .milliseconds(500), clock: clock)
            }
        }
        if changed {
            let claimedAt = state.withLock { state in
                if outcome != .retried { state.processed += 1 }
                return state.inFlight[task.id]?.claimedAt
            }
            let took = claimedAt.map { clock.now - $0 } ?? .zero
            metrics.attempt(outcome, took: took, cause: cause)
            logger.debug("attempt ended", metadata: [
                "outcome": "\(outcome.rawValue)", "attempt": "\(task.attempt)", "seconds": "\(took.seconds)",
            ])
        } else {
            logger.notice("the task's lease was lost (cancelled, or taken up again); this worker's outcome is dropped")
        }
    }

    private func handBack(_ task: ClaimedTask, logger: Logger) async {
        do {
            _ = try await store.release([task.lease])
        } catch {
            logger.error("could not hand the task back; its lease will run out", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Maintenance

    private func noteProgress(of task: ClaimedTask, tokens: Int) {
        state.withLock { state in
            guard var entry = state.inFlight[task.id] else { return }
            entry.percent = min(99, tokens * 100 / max(entry.maxTokens, 1))
            state.inFlight[task.id] = entry
        }
    }

    private func maintain() async {
        var nextRenew = clock.now + configuration.renewInterval
        var nextProgress = clock.now + configuration.progressInterval
        // At once: tasks a previous process left in flight are waiting to be taken back.
        var nextReclaim = clock.now
        var nextPurge = clock.now
        while !Task.isCancelled {
            let now = clock.now
            if now >= nextProgress {
                await flushProgress()
                nextProgress = now + configuration.progressInterval
            }
            if now >= nextRenew {
                await renewLeases()
                nextRenew = now + configuration.renewInterval
            }
            if now >= nextReclaim {
                await run("take back expired leases") {
                    _ = try await self.store.reclaimExpiredLeases(maxAttempts: self.configuration.retry.maxAttempts)
                }
                nextReclaim = now + configuration.renewInterval
            }
            if now >= nextPurge {
                await run("purge expired tasks") { _ = try await self.store.purgeExpired() }
                nextPurge = now + configuration.purgeInterval
            }
            let next = min(nextRenew, nextProgress, nextReclaim, nextPurge)
            try? await Task.sleep(until: next, clock: clock)
        }
    }

    private func run(_ what: String, _ body: () async throws -> Void) async {
        do {
            try await body()
        } catch {
            logger.error("could not \(what)", metadata: ["error": "\(error)"])
        }
    }

    private func renewLeases() async {
        let leases = state.withLock { $0.inFlight.values.map(\.lease) }
        guard !leases.isEmpty else { return }
        await run("renew leases") {
            let held = try await self.store.renew(leases, lease: self.configuration.lease)
            let lost = leases.count - held.count
            if lost > 0 {
                self.logger.notice("leases lost while working (cancelled or taken up again)", metadata: ["count": "\(lost)"])
            }
        }
    }

    private func flushProgress() async {
        let updates: [(TaskLease, Int)] = state.withLock { state in
            var updates: [(TaskLease, Int)] = []
            for (id, entry) in state.inFlight where entry.percent != entry.reportedPercent {
                updates.append((entry.lease, entry.percent))
                state.inFlight[id]?.reportedPercent = entry.percent
            }
            return updates
        }
        guard !updates.isEmpty else { return }
        await run("record progress") {
            try await withThrowingDiscardingTaskGroup { group in
                for (lease, percent) in updates {
                    group.addTask { _ = try await self.store.reportProgress(lease, percent: percent) }
                }
            }
        }
    }
}

extension WorkerPool where C == ContinuousClock {
    /// A pool on the continuous clock: the server's.
    package convenience init(
        store: any TaskStore, backend: any ChatBackend, gate: RateLimitGate<ContinuousClock>, configuration: Configuration,
        logger: Logger, metricsFactory: any MetricsFactory = MetricsSystem.factory, steps: [String: any TaskStepHandler] = [:]
    ) {
        self.init(
            store: store, backend: backend, gate: gate, configuration: configuration, logger: logger,
            metricsFactory: metricsFactory, steps: steps, clock: ContinuousClock()
        )
    }
}
