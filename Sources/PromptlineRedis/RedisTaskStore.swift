import Foundation
import Logging
import NIOCore
import PromptlineCore
import RedisClient
import ServiceLifecycle

/// The Redis store: any number of Promptline instances share one queue and its results.
///
/// Every state change is one Lua script (``Scripts``) that checks the task's fencing token,
/// so a worker whose lease ran out changes nothing. Idle workers on every instance are woken
/// through pub/sub; as a `Service` the store runs that subscription.
///
/// When Redis is out of reach, every call throws ``StoreUnavailableError`` at once (the
/// connection pool fails fast while it backs off), and works again by itself when Redis is
/// back — scripts lost in a restart are loaded again.
package final class RedisTaskStore: FlowStore, Service {
    package struct Configuration: Sendable {
        package var redis: RedisConfiguration
        /// Put before every key, so several deployments (or tests) can share one Redis.
        package var keyPrefix: String
        package var retention: RetentionPolicy

        package init(redis: RedisConfiguration, keyPrefix: String = "", retention: RetentionPolicy = RetentionPolicy()) {
            self.redis = redis
            self.keyPrefix = keyPrefix
            self.retention = retention
        }
    }

    package let configuration: Configuration
    /// The connection pool, shared with whatever else of the instance talks to this Redis.
    package let pool: RedisConnectionPool
    private let logger: Logger
    let workSignal = WakeUpSignal()
    private let completions: CompletionBatcher<Completion>
    var prefix: String { configuration.keyPrefix }

    private init(configuration: Configuration, pool: RedisConnectionPool, logger: Logger) {
        self.configuration = configuration
        self.pool = pool
        self.logger = logger
        completions = CompletionBatcher()
    }

    /// Connects, and checks that Redis answers and can run the store's scripts.
    package static func open(_ configuration: Configuration, logger: Logger) async throws -> RedisTaskStore {
        let pool = RedisConnectionPool(configuration.redis, logger: logger)
        let store = RedisTaskStore(configuration: configuration, pool: pool, logger: logger)
        do {
            _ = try await pool.send(PING())
            _ = try await store.counts()
        } catch {
            await pool.shutdown()
            throw error
        }
        return store
    }

    /// Listens for work queued by any instance, until shutdown.
    package func run() async throws {
        let subscriber = RedisSubscriber(configuration.redis, channels: [prefix + "tasks:wake"], logger: logger)
        let signal = workSignal
        await cancelWhenGracefulShutdown {
            await subscriber.run(onMessage: { _ in signal.signal() }, onReconnect: { signal.signal() })
        }
    }

    /// Closes the connections.
    package func close() async {
        await pool.shutdown()
    }

    /// What an operator should know about this Redis: eviction that could drop tasks, and
    /// persistence that is off. Empty when all is well; settings Redis will not tell (a
    /// managed service may hide `CONFIG`) are not warned about.
    package func configurationWarnings() async -> [String] {
        var warnings: [String] = []
        if let policy = try? await pool.send(CONFIGGET("maxmemory-policy")).value, policy != "noeviction" {
            warnings.append("Redis maxmemory-policy is \(policy): under memory pressure Redis may evict queued tasks and results; set it to noeviction")
        }
        if let info = try? await pool.send(INFO("persistence")) {
            let aofOn = info.contains("aof_enabled:1")
            let save = try? await pool.send(CONFIGGET("save")).value
            if !aofOn, save?.trimmingCharacters(in: .whitespaces).isEmpty ?? false {
                warnings.append("Redis persistence is off (no AOF, no RDB snapshots): a Redis restart loses every task; enable appendonly")
            }
        }
        return warnings
    }

    // MARK: - TaskStore

    package func enqueue(_ tasks: [NewTask], idempotencyKey: String?) async throws -> EnqueueOutcome {
        guard !tasks.isEmpty else { return .stored([]) }
        var arguments: [RedisScript.Argument] = [
            .string(prefix), .string(idempotencyKey ?? ""), .integer(configuration.retention.resultTTL.milliseconds),
        ]
        try Self.appendFields(of: tasks, to: &arguments)
        let outcome = Self.enqueueOutcome(try await run(Scripts.enqueue, arguments), ids: tasks.map(\.id))
        if case .stored = outcome { workSignal.signal() }
        return outcome
    }

    /// Appends the 10 values per task that ``Scripts/enqueue`` and the flow scripts read.
    static func appendFields(of tasks: [NewTask], to arguments: inout [RedisScript.Argument]) throws {
        arguments.reserveCapacity(arguments.count + tasks.count * 10)
        for task in tasks {
            arguments.append(.string(task.id))
            arguments.append(.string(Self.rankPrefix(priority: task.priority)))
            arguments.append(.integer(Int64(task.priority)))
            arguments.append(.string(task.request.model))
            arguments.append(.integer(Int64(task.request.maxTokens)))
            arguments.append(.double(task.request.temperature))
            arguments.append(.string(StoredRequest.prompt(of: task.request) ?? ""))
            arguments.append(.string(try StoredRequest.json(of: task.request) ?? ""))
            arguments.append(.string(try StoredRequest.metadataJSON(task.metadata) ?? ""))
            arguments.append(.string(task.owner ?? ""))
        }
    }

    /// An enqueue script's answer: `{1}` when stored, `{0, "id,id,…"}` for a key seen before.
    static func enqueueOutcome(_ reply: RESPValue, ids: [String]) -> EnqueueOutcome {
        if let elements = reply.elements, elements.count == 2, elements[0].int64 == 0 {
            let existing = elements[1].string ?? ""
            return .duplicate(existing.isEmpty ? [] : existing.split(separator: ",").map(String.init))
        }
        return .stored(ids)
    }

    package func claim(limit: Int, lease: Duration) async throws -> [ClaimedTask] {
        guard limit > 0 else { return [] }
        let reply = try await run(Scripts.claim, [.string(prefix), .integer(Int64(limit)), .integer(lease.milliseconds)])
        return try ClaimedTaskReply.tasks(in: reply)
    }

    package func renew(_ leases: [TaskLease], lease: Duration) async throws -> Set<String> {
        guard !leases.isEmpty else { return [] }
        var arguments: [RedisScript.Argument] = [.string(prefix), .integer(lease.milliseconds)]
        for held in leases {
            arguments.append(.string(held.id))
            arguments.append(.integer(held.token))
        }
        return Set(try Self.elements(try await run(Scripts.renew, arguments)).compactMap(\.string))
    }

    package func reportProgress(_ lease: TaskLease, percent: Int) async throws -> Bool {
        try await changed(Scripts.progress, lease, [.integer(Int64(min(max(percent, 0), 100)))])
    }

    /// Completions go to Redis in batches (see ``CompletionBatcher``): one script call for
    /// all the workers that finish while the previous call is on its way.
    package func complete(_ lease: TaskLease, result: TaskResult) async throws -> Bool {
        try await completions.submit(Completion(lease: lease, result: result)) { try await self.complete($0) }
    }

    struct Completion: Sendable {
        var lease: TaskLease
        var result: TaskResult
    }

    private func complete(_ batch: [Completion]) async throws -> [Bool] {
        var arguments: [RedisScript.Argument] = [.string(prefix), .integer(configuration.retention.resultTTL.milliseconds)]
        arguments.reserveCapacity(2 + batch.count * 7)
        for completion in batch {
            let usage = completion.result.usage
            arguments += [
                .string(completion.lease.id), .integer(completion.lease.token), .string(completion.result.content),
                .string(usage.map { String($0.promptTokens) } ?? ""),
                .string(usage.map { String($0.completionTokens) } ?? ""),
                .string(usage.map { String($0.totalTokens) } ?? ""),
                .string(completion.result.model ?? ""),
            ]
        }
        return try Self.elements(try await run(Scripts.complete, arguments)).map { $0.int64 == 1 }
    }

    package func fail(_ lease: TaskLease, error: String) async throws -> Bool {
        try await changed(Scripts.fail, lease, [.integer(configuration.retention.statusTTL.milliseconds), .string(error)])
    }

    package func retry(_ lease: TaskLease, after delay: Duration, error: String) async throws -> Bool {
        let retried = try await changed(Scripts.retry, lease, [.integer(max(delay, .zero).milliseconds), .string(error)])
        if retried { workSignal.signal() }
        return retried
    }

    package func release(_ leases: [TaskLease]) async throws -> Int {
        guard !leases.isEmpty else { return 0 }
        var arguments: [RedisScript.Argument] = [.string(prefix)]
        for held in leases {
            arguments.append(.string(held.id))
            arguments.append(.integer(held.token))
        }
        let released = try Self.integer(try await run(Scripts.release, arguments))
        if released > 0 { workSignal.signal() }
        return released
    }

    package func cancel(id: String) async throws -> CancelOutcome {
        let reply = try await run(Scripts.cancel, [
            .string(prefix), .string(id), .integer(configuration.retention.statusTTL.milliseconds),
        ])
        switch reply.string {
        case "cancelled": return .cancelled
        case "not_found": return .notFound
        case let answer? where answer.hasPrefix("finished:"):
            guard let status = TaskStatus(rawValue: String(answer.dropFirst("finished:".count))) else { throw Self.unreadable("cancel") }
            return .alreadyFinished(status)
        default: throw Self.unreadable("cancel")
        }
    }

    package func tasks(ids: [String]) async throws -> [String: TaskRecord] {
        guard !ids.isEmpty else { return [:] }
        var records: [String: TaskRecord] = [:]
        records.reserveCapacity(ids.count)
        for chunk in stride(from: 0, to: ids.count, by: 1_000).map({ ids[$0..<min($0 + 1_000, ids.count)] }) {
            let reply = try await run(Scripts.read, [.string(prefix)] + chunk.map { .string($0) })
            let values = try Self.elements(reply)
            var index = 0
            while index + 1 < values.count {
                guard let id = values[index].string else { throw Self.unreadable("read") }
                records[id] = try StoredTaskReply(values[index + 1]).record(id: id)
                index += 2
            }
        }
        return records
    }

    package func reclaimExpiredLeases(maxAttempts: Int) async throws -> Int {
        let reply = try await run(Scripts.reclaim, [
            .string(prefix), .integer(Int64(maxAttempts)), .integer(configuration.retention.statusTTL.milliseconds),
        ])
        let counts = try Self.elements(reply).compactMap(\.int64)
        guard counts.count == 2 else { throw Self.unreadable("reclaim") }
        let (deadLettered, requeued) = (counts[0], counts[1])
        if deadLettered > 0 { logger.warning("dead-lettered tasks whose workers kept stopping", metadata: ["count": "\(deadLettered)"]) }
        if requeued > 0 { workSignal.signal() }
        return Int(deadLettered + requeued)
    }

    package func purgeExpired() async throws -> Int {
        try Self.integer(try await run(Scripts.purge, [.string(prefix)]))
    }

    package func waitForWork(timeout: Duration) async {
        await workSignal.wait(timeout: timeout)
    }

    package func counts() async throws -> QueueCounts {
        let values = try Self.elements(try await run(Scripts.counts, [.string(prefix)])).compactMap(\.int64).map(Int.init)
        guard values.count == 5 else { throw Self.unreadable("counts") }
        return QueueCounts(queued: values[0], processing: values[1], completed: values[2], error: values[3], cancelled: values[4])
    }

    package func unfinishedCount(owner: String) async throws -> Int {
        try Self.integer(try await run(Scripts.unfinished, [.string(prefix), .string(owner)]))
    }

    // MARK: - Helpers

    /// Runs a script; an unreachable Redis becomes a ``StoreUnavailableError``.
    func run(_ script: RedisScript, _ arguments: [RedisScript.Argument]) async throws -> RESPValue {
        do {
            return try await pool.run(script, arguments: arguments)
        } catch {
            if error.isUnavailable { throw StoreUnavailableError("Redis is unreachable (\(error.message))") }
            throw error
        }
    }

    /// Runs a fenced change of one task; answers whether the lease was current.
    private func changed(_ script: RedisScript, _ lease: TaskLease, _ arguments: [RedisScript.Argument]) async throws -> Bool {
        try Self.integer(try await run(script, [.string(prefix), .string(lease.id), .integer(lease.token)] + arguments)) == 1
    }

    /// The first part of a task's rank in the queue: 16 hex digits that sort the highest
    /// priority first.
    static func rankPrefix(priority: Int) -> String {
        let ordered = ~(UInt64(bitPattern: Int64(priority)) ^ (1 << 63))
        let hex = String(ordered, radix: 16)
        return String(repeating: "0", count: 16 - hex.utf8.count) + hex
    }

    static func elements(_ reply: RESPValue) throws -> [RESPValue] {
        guard let elements = reply.elements else { throw unreadable("reply") }
        return elements
    }

    static func integer(_ reply: RESPValue) throws -> Int {
        guard let value = reply.int64 else { throw unreadable("reply") }
        return Int(value)
    }

    static func unreadable(_ what: String) -> RedisClientError {
        RedisClientError(.unexpectedResponse, "the store's \(what) script answered something unexpected")
    }
}
