import Foundation
import GRDB
import Logging
import PromptlineCore
import ServiceLifecycle

/// The embedded store: one SQLite database file (WAL) under a data directory.
///
/// One process owns the file. Writes go through a ``GroupCommitWriter`` (many changes to a
/// transaction, each answered only once committed); reads use the pool's concurrent readers.
/// The queue lives in the database, ordered by an index on (priority, sequence).
public final class SQLiteTaskStore: TaskStore, Service {
    /// Where the store keeps its file and how long it keeps what it holds.
    public struct Configuration: Sendable {
        /// The data directory; created if missing. The database is `promptline.sqlite` in it.
        public var directory: String
        public var retention: RetentionPolicy

        public init(directory: String = "./promptline-data", retention: RetentionPolicy = RetentionPolicy()) {
            self.directory = directory
            self.retention = retention
        }

        public var databasePath: String {
            URL(fileURLWithPath: directory).appendingPathComponent("promptline.sqlite").path
        }
    }

    let database: DatabasePool
    /// A connection of its own that copies the WAL into the database file, so that the
    /// writer never waits for the disk's flushes.
    let checkpointer: DatabaseQueue
    let writer: GroupCommitWriter
    let retention: RetentionPolicy
    private let workSignal = WakeUpSignal()
    private let logger: Logger

    private init(database: DatabasePool, checkpointer: DatabaseQueue, retention: RetentionPolicy, logger: Logger) {
        self.database = database
        self.checkpointer = checkpointer
        self.writer = GroupCommitWriter(database: database)
        self.retention = retention
        self.logger = logger
    }

    /// Opens (or creates) the store. Whatever a previous process left `processing` has its
    /// lease ended, so the next ``reclaimExpiredLeases(maxAttempts:)`` hands it back to the
    /// queue (or dead-letters it, if it keeps taking its process down).
    public static func open(_ configuration: Configuration, logger: Logger) async throws -> SQLiteTaskStore {
        try FileManager.default.createDirectory(atPath: configuration.directory, withIntermediateDirectories: true)
        var config = GRDB.Configuration()
        config.label = "promptline"
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            // WAL + NORMAL: a commit is in the WAL file before it returns, so it survives
            // the process being killed; only a power cut may lose the last moments.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Checkpoints (which wait for the disk) run beside the writer, in `run()`; the
            // writer checkpoints itself only if the WAL grows past ~400 MB without them.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 100000")
        }
        let database = try DatabasePool(path: configuration.databasePath, configuration: config)
        var checkpointerConfiguration = GRDB.Configuration()
        checkpointerConfiguration.label = "promptline.checkpoint"
        checkpointerConfiguration.busyMode = .timeout(10)
        let checkpointer = try DatabaseQueue(path: configuration.databasePath, configuration: checkpointerConfiguration)
        try await database.write { db in try Schema.migrate(db) }
        let store = SQLiteTaskStore(database: database, checkpointer: checkpointer, retention: configuration.retention, logger: logger)
        let leftInFlight = try await store.writer.write { db in
            try db.execute(sql: "UPDATE tasks SET lease_until = 0 WHERE status = 'processing'")
            return db.changesCount
        }
        if leftInFlight > 0 {
            logger.notice("tasks a previous process left in flight go back to the queue", metadata: ["count": "\(leftInFlight)"])
        }
        return store
    }

    /// Closes the database file.
    public func close() async throws {
        try checkpointer.close()
        try database.close()
    }

    /// Checkpoints the WAL every second while running (a `Service`), and once more at the end.
    public func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .seconds(1))
            checkpoint(.passive)
        }
        checkpoint(.truncate)
    }

    private func checkpoint(_ kind: Database.CheckpointMode) {
        do {
            try checkpointer.writeWithoutTransaction { db in _ = try db.checkpoint(kind) }
        } catch {
            logger.warning("could not checkpoint the database", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - TaskStore

    public func enqueue(_ tasks: [NewTask], idempotencyKey: String?) async throws -> EnqueueOutcome {
        guard !tasks.isEmpty else { return .stored([]) }
        let rows = try tasks.map { try TaskRow.Insert($0) }
        let now = Self.now()
        let keyExpiry = now + retention.resultTTL.seconds
        let outcome = try await writer.write { db -> EnqueueOutcome in
            if let idempotencyKey {
                if let stored = try String.fetchOne(
                    db, sql: "SELECT task_ids FROM idempotency WHERE key = ? AND expires_at > ?",
                    arguments: [idempotencyKey, now]
                ) {
                    return .duplicate(stored.split(separator: ",").map(String.init))
                }
            }
            let insert = try db.cachedStatement(sql: """
                INSERT INTO tasks (id, status, priority, model, max_tokens, temperature, prompt, messages,
                                   metadata, owner, available_at, queued_at)
                VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for row in rows {
                try insert.execute(arguments: [
                    row.id, row.priority, row.model, row.maxTokens, row.temperature, row.prompt, row.messages,
                    row.metadata, row.owner, now, now,
                ])
            }
            if let idempotencyKey {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO idempotency (key, task_ids, expires_at) VALUES (?, ?, ?)",
                    arguments: [idempotencyKey, rows.map(\.id).joined(separator: ","), keyExpiry]
                )
            }
            return .stored(rows.map(\.id))
        }
        if case .stored = outcome { workSignal.signal() }
        return outcome
    }

    public func claim(limit: Int, lease: Duration) async throws -> [ClaimedTask] {
        guard limit > 0 else { return [] }
        let now = Self.now()
        let leaseUntil = now + lease.seconds
        let rows = try await writer.write { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                UPDATE tasks
                SET status = 'processing', attempts = attempts + 1, token = token + 1,
                    lease_until = ?, started_at = COALESCE(started_at, ?), progress = 0
                WHERE seq IN (
                    SELECT seq FROM tasks WHERE status = 'queued' AND available_at <= ?
                    ORDER BY priority DESC, seq LIMIT ?)
                RETURNING seq, priority, id, token, attempts, \(TaskRow.requestColumns)
                """), arguments: [leaseUntil, now, now, limit]
            ).map { row in
                (seq: row["seq"] as Int64, priority: row["priority"] as Int, task: ClaimedTask(
                    lease: TaskLease(id: row["id"], token: row["token"]),
                    request: try TaskRow.request(row),
                    attempt: row["attempts"]
                ))
            }
        }
        return rows.sorted { ($0.priority, -$0.seq) > ($1.priority, -$1.seq) }.map(\.task)
    }

    public func renew(_ leases: [TaskLease], lease: Duration) async throws -> Set<String> {
        guard !leases.isEmpty else { return [] }
        let leaseUntil = Self.now() + lease.seconds
        return try await writer.write { db in
            let statement = try db.cachedStatement(sql: """
                UPDATE tasks SET lease_until = ? WHERE id = ? AND token = ? AND status = 'processing'
                """)
            var held = Set<String>()
            for lease in leases {
                try statement.execute(arguments: [leaseUntil, lease.id, lease.token])
                if db.changesCount > 0 { held.insert(lease.id) }
            }
            return held
        }
    }

    public func reportProgress(_ lease: TaskLease, percent: Int) async throws -> Bool {
        try await update(lease, set: "progress = ?", [min(max(percent, 0), 100)])
    }

    public func complete(_ lease: TaskLease, result: TaskResult) async throws -> Bool {
        let now = Self.now()
        return try await update(lease, set: """
            status = 'completed', result = ?, prompt_tokens = ?, completion_tokens = ?, total_tokens = ?,
            answered_by = ?, error = NULL, progress = 100,
            lease_until = NULL, finished_at = ?, expires_at = ?
            """, [
                Data(result.content.utf8), result.usage?.promptTokens, result.usage?.completionTokens, result.usage?.totalTokens,
                result.model, now, now + retention.resultTTL.seconds,
            ])
    }

    public func fail(_ lease: TaskLease, error: String) async throws -> Bool {
        let now = Self.now()
        return try await update(lease, set: """
            status = 'error', error = ?, lease_until = NULL, finished_at = ?, expires_at = ?
            """, [error, now, now + retention.statusTTL.seconds])
    }

    public func retry(_ lease: TaskLease, after delay: Duration, error: String) async throws -> Bool {
        let retried = try await update(lease, set: """
            status = 'queued', error = ?, lease_until = NULL, progress = 0, available_at = ?
            """, [error, Self.now() + max(delay, .zero).seconds])
        if retried { workSignal.signal() }
        return retried
    }

    public func release(_ leases: [TaskLease]) async throws -> Int {
        guard !leases.isEmpty else { return 0 }
        let now = Self.now()
        let released = try await writer.write { db in
            let statement = try db.cachedStatement(sql: """
                UPDATE tasks SET status = 'queued', attempts = attempts - 1, lease_until = NULL,
                    progress = 0, available_at = ?
                WHERE id = ? AND token = ? AND status = 'processing'
                """)
            var count = 0
            for lease in leases {
                try statement.execute(arguments: [now, lease.id, lease.token])
                count += db.changesCount
            }
            return count
        }
        if released > 0 { workSignal.signal() }
        return released
    }

    public func cancel(id: String) async throws -> CancelOutcome {
        let now = Self.now()
        let expiresAt = now + retention.statusTTL.seconds
        return try await writer.write { db in
            try db.execute(sql: """
                UPDATE tasks SET status = 'cancelled', token = token + 1, lease_until = NULL,
                    finished_at = ?, expires_at = ?
                WHERE id = ? AND status IN ('queued', 'processing')
                """, arguments: [now, expiresAt, id])
            if db.changesCount > 0 { return .cancelled }
            let status = try String.fetchOne(
                db, sql: "SELECT status FROM tasks WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)",
                arguments: [id, now])
            return status.flatMap(TaskStatus.init(rawValue:)).map(CancelOutcome.alreadyFinished) ?? .notFound
        }
    }

    public func tasks(ids: [String]) async throws -> [String: TaskRecord] {
        guard !ids.isEmpty else { return [:] }
        let now = Self.now()
        return try await database.read { db in
            var records: [String: TaskRecord] = [:]
            for chunk in ids.chunked(into: 500) {
                let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                var arguments = StatementArguments(chunk)
                arguments += [now]
                let rows = try Row.fetchAll(db, sql: """
                    SELECT * FROM tasks WHERE id IN (\(placeholders)) AND (expires_at IS NULL OR expires_at > ?)
                    """, arguments: arguments)
                for row in rows {
                    let record = try TaskRow.record(row)
                    records[record.id] = record
                }
            }
            return records
        }
    }

    public func reclaimExpiredLeases(maxAttempts: Int) async throws -> Int {
        let now = Self.now()
        let expiresAt = now + retention.statusTTL.seconds
        let (dead, requeued) = try await writer.write { db in
            try db.execute(sql: """
                UPDATE tasks SET status = 'error', lease_until = NULL, finished_at = ?, expires_at = ?,
                    error = 'dead-lettered after ' || attempts || ' deliveries: the worker holding it stopped before finishing each time'
                WHERE status = 'processing' AND lease_until < ? AND attempts >= ?
                """, arguments: [now, expiresAt, now, maxAttempts])
            let dead = db.changesCount
            try db.execute(sql: """
                UPDATE tasks SET status = 'queued', lease_until = NULL, progress = 0, available_at = ?
                WHERE status = 'processing' AND lease_until < ?
                """, arguments: [now, now])
            return (dead, db.changesCount)
        }
        if dead > 0 { logger.warning("dead-lettered tasks whose workers kept stopping", metadata: ["count": "\(dead)"]) }
        if requeued > 0 { workSignal.signal() }
        return dead + requeued
    }

    public func purgeExpired() async throws -> Int {
        let now = Self.now()
        return try await writer.write { db in
            try db.execute(sql: "DELETE FROM tasks WHERE expires_at <= ?", arguments: [now])
            let purged = db.changesCount
            try db.execute(sql: "DELETE FROM idempotency WHERE expires_at <= ?", arguments: [now])
            try db.execute(sql: "DELETE FROM documents WHERE expires_at <= ?", arguments: [now])
            return purged
        }
    }

    public func waitForWork(timeout: Duration) async {
        await workSignal.wait(timeout: timeout)
    }

    public func counts() async throws -> QueueCounts {
        let now = Self.now()
        return try await database.read { db in
            var counts = QueueCounts()
            let rows = try Row.fetchAll(db, sql: """
                SELECT status, COUNT(*) AS n FROM tasks WHERE expires_at IS NULL OR expires_at > ? GROUP BY status
                """, arguments: [now])
            for row in rows {
                let n: Int = row["n"]
                switch TaskStatus(rawValue: row["status"]) {
                case .queued: counts.queued = n
                case .processing: counts.processing = n
                case .completed: counts.completed = n
                case .error: counts.error = n
                case .cancelled: counts.cancelled = n
                case nil: break
                }
            }
            return counts
        }
    }

    public func unfinishedCount(owner: String) async throws -> Int {
        try await database.read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM tasks WHERE owner = ? AND status IN ('queued', 'processing')
                """, arguments: [owner]) ?? 0
        }
    }

    // MARK: - Helpers

    /// One fenced change: applies `assignments` only while `lease` is the task's current one.
    private func update(_ lease: TaskLease, set assignments: String, _ values: [(any DatabaseValueConvertible)?]) async throws -> Bool {
        var collected = StatementArguments(values)
        collected += [lease.id, lease.token]
        let arguments = collected
        return try await writer.write { db in
            try db.cachedStatement(
                sql: "UPDATE tasks SET \(assignments) WHERE id = ? AND token = ? AND status = 'processing'"
            ).execute(arguments: arguments)
            return db.changesCount > 0
        }
    }

    static func now() -> Double {
        Date().timeIntervalSince1970
    }
}

extension Array {
    func chunked(into size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
