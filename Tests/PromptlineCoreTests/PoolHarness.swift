import Logging
import PromptlineCore
import PromptlineTesting
import ServiceLifecycleTestKit
import Synchronization

/// A worker pool on a ``TestClock`` and an ``InMemoryTaskStore``, calling a ``ScriptedBackend``.
///
/// The pool, its gate and its store share the one clock, which stands still until the test
/// moves it.
final class PoolHarness: Sendable {
    let clock = TestClock()
    let store: InMemoryTaskStore<TestClock>
    let backend: ScriptedBackend
    let gate: RateLimitGate<TestClock>
    let pool: WorkerPool<TestClock>
    private let stopped = Atomic(false)

    init(
        _ configuration: WorkerPool<TestClock>.Configuration,
        script: @escaping @Sendable (_ prompt: String, _ call: Int) -> ScriptedBackend.Reply
    ) {
        store = InMemoryTaskStore(clock: clock)
        backend = ScriptedBackend(clock: clock, script: script)
        gate = RateLimitGate(clock: clock)
        pool = WorkerPool(
            store: store, backend: backend, gate: gate, configuration: configuration,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), clock: clock
        )
    }

    /// Whether the pool's `run()` has returned.
    var hasStopped: Bool { stopped.load(ordering: .relaxed) }

    /// Runs the pool while `body` runs, then cancels it if it is still running. `body` may
    /// shut the pool down gracefully with the trigger it is given.
    func run(_ body: (GracefulShutdownTestTrigger) async throws -> Void) async throws {
        try await testGracefulShutdown { shutdown in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await self.pool.run()
                    self.stopped.store(true, ordering: .relaxed)
                }
                defer { group.cancelAll() }
                try await body(shutdown)
            }
        }
    }

    /// Enqueues one task per prompt, in this order, as one batch; answers their ids.
    @discardableResult
    func enqueue(_ tasks: [(prompt: String, priority: Int)]) async throws -> [String] {
        let batch = tasks.map { task in
            NewTask(
                request: ChatRequest(
                    model: "test-model", messages: [ChatMessage(role: "user", content: task.prompt)], maxTokens: 100, temperature: 0
                ),
                priority: task.priority
            )
        }
        return try await store.enqueue(batch, idempotencyKey: nil).ids
    }

    func record(_ id: String) async throws -> TaskRecord {
        guard let record = try await store.tasks(ids: [id])[id] else { throw MissingTask(id: id) }
        return record
    }

    struct MissingTask: Error {
        var id: String
    }

    /// Waits until the backend has had at least `count` calls.
    func waitForCalls(_ count: Int, file: String = #fileID, line: Int = #line) async throws {
        try await eventually("\(count) calls to the backend, had \(backend.prompts)", file: file, line: line) {
            backend.calls.count >= count
        }
    }

    /// Waits until at least `sleepers` wait on the clock: by default the pool's two loops,
    /// the dispatcher and the maintenance loop, so that the pool has done all it does at
    /// this time and the test may move the clock on.
    func settled(sleepers: Int = 2, file: String = #fileID, line: Int = #line) async throws {
        try await eventually("\(sleepers) asleep on the clock, found \(clock.deadlines)", file: file, line: line) {
            clock.deadlines.count >= sleepers
        }
    }
}

extension TestClock.Instant {
    /// `seconds` after the clock's start.
    static func at(_ seconds: Int) -> Self {
        Self(offset: .seconds(seconds))
    }
}
