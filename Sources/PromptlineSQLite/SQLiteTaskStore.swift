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
package final class SQLiteTaskStore: FlowStore, Service {
    /// Where the store keeps its file and how long it keeps what it holds.
    package struct Configuration: Sendable {
        /// The data directory; created if missing. The database is `promptline.sqlite` in it.
        package var directory: String
        package var retention: RetentionPolicy

        package init(directory: String = "./promptline-data", retention: RetentionPolicy = RetentionPolicy()) {
            self.directory = directory
            self.retention = retention
        }

        package var databasePath: String {
            URL(fileURLWithPath: directory).appendingPathComponent("promptline.sqlite").path
        }
    }

    /// Where the store keeps its file and how long it keeps what it holds.
    package let configuration: Configuration
    let database: DatabasePool
    /// A connection of its own that copies the WAL into the database file, so that the
    /// writer never waits for the disk's flushes.
    let checkpointer: DatabaseQueue
    let writer: GroupCommitWriter
    let retention: RetentionPolicy
    let workSignal = WakeUpSignal()
    private let logger: Logger

    private init(configuration: Configuration, database: DatabasePool, checkpointer: DatabaseQueue, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.checkpointer = checkpointer
        self.writer = GroupCommitWriter(database: database)
        self.retention = configuration.retention
        self.logger = logger
    }

    /// Opens (or creates) the store. Whatever a previous process left `processing` has its
    /// lease ended, so the next ``reclaimExpiredLeases(maxAttempts:)`` hands it back to the
    /// queue (or dead-letters it, if it keeps taking its process down).
    package static func open(_ configuration: Configuration, logger: Logger) async throws -> SQLiteTaskStore {
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
        let store = SQLiteTaskStore(configuration: configuration, database: database, checkpointer: checkpointer, logger: logger)
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
    package func close() async throws {
        try checkpointer.close()
        try database.close()
    }

    /// Checkpoints the WAL every second while running (a `Service`), and once more at the end.
    package func run() async throws {
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

    package func enqueue(_ tasks: [NewTask], idempotencyKey: String?) async throws -> EnqueueOutcome {
        guard !tasks.isEmpty else { return .stored([]) }
        let rows = try tasks.map { try TaskRow.Insert($0) }
        let now = Self.now()
        let keyExpiry = now + retention.resultTTL.seconds
        let outcome = try await writer.write { db -> EnqueueOutcome in
            if let stored = try Self.remembered(idempotencyKey, now: now, in: db) { return .duplicate(stored) }
            try Self.insert(rows, into: db, now: now)
            try Self.remember(idempotencyKey, ids: rows.map(\.id), until: keyExpiry, in: db)
            return .stored(rows.map(\.id))
        }
        if case .stored = outcome { workSignal.signal() }
        return outcome
    }

    /// Inserts queued tasks, in order. With a parent, they are its children, and those from
    /// `blockedFrom` on are held back (blocked) until siblings finish.
    static func insert(
        _ rows: [TaskRow.Insert], into db: Database, now: Double, parentID: String? = nil, blockedFrom: Int = .max
    ) throws {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO tasks (id, status, priority, model, max_tokens, temperature, prompt, messages,
                               metadata, owner, available_at, queued_at, parent_id, blocked)
            VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for (index, row) in rows.enumerated() {
            try insert.execute(arguments: [
                row.id, row.priority, row.model, row.maxTokens, row.temperature, row.prompt, row.messages,
                row.metadata, row.owner, now, now, parentID, index >= blockedFrom ? 1 : 0,
            ])
        }
    }

    /// Remembers the ids an idempotency key stored.
    static func remember(_ idempotencyKey: String?, ids: [String], until expiresAt: Double, in db: Database) throws {
        guard let idempotencyKey else { return }
        try db.execute(
            sql: "INSERT OR REPLACE INTO idempotency (key, task_ids, expires_at) VALUES (?, ?, ?)",
            arguments: [idempotencyKey, ids.joined(separator: ","), expiresAt]
        )
    }

    /// The ids an idempotency key stored, if it was seen and has not expired.
    static func remembered(_ idempotencyKey: String?, now: Double, in db: Database) throws -> [String]? {
        guard let idempotencyKey else { return nil }
        return try String.fetchOne(
            db, sql: "SELECT task_ids FROM idempotency WHERE key = ? AND expires_at > ?", arguments: [idempotencyKey, now]
        ).map { $0.split(separator: ",").map(String.init) }
    }

    package func claim(limit: Int, lease: Duration) async throws -> [ClaimedTask] {
        guard limit > 0 else { return [] }
        let now = Self.now()
        let leaseUntil = now + lease.seconds
        let rows = try await writer.write { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                UPDATE tasks
                SET status = 'processing', attempts = attempts + 1, token = token + 1,
                    lease_until = ?, started_at = COALESCE(started_at, ?), progress = 0
                WHERE seq IN (
                    SELECT seq FROM tasks WHERE status = 'queued' AND blocked = 0 AND available_at <= ?
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

    package func renew(_ leases: [TaskLease], lease: Duration) async throws -> Set<String> {
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

    package func reportProgress(_ lease: TaskLease, percent: Int) async throws -> Bool {
        try await update(lease, set: "progress = ?", [min(max(percent, 0), 100)])
    }

    package func complete(_ lease: TaskLease, result: TaskResult) async throws -> Bool {
        let now = Self.now()
        let expiresAt = now + retention.resultTTL.seconds
        return try await finish(lease, as: .completed, cause: nil, now: now, expiresAt: expiresAt, set: """
            status = 'completed', result = ?, prompt_tokens = ?, completion_tokens = ?, total_tokens = ?,
            answered_by = ?, error = NULL, progress = 100,
            lease_until = NULL, finished_at = ?, expires_at = ?
            """, [
                Data(result.content.utf8), result.usage?.promptTokens, result.usage?.completionTokens, result.usage?.totalTokens,
                result.model, now, expiresAt,
            ])
    }

    package func fail(_ lease: TaskLease, error: String) async throws -> Bool {
        let now = Self.now()
        let expiresAt = now + retention.statusTTL.seconds
        return try await finish(lease, as: .error, cause: error, now: now, expiresAt: expiresAt, set: """
            status = 'error', error = ?, lease_until = NULL, finished_at = ?, expires_at = ?
            """, [error, now, expiresAt])
    }

    package func retry(_ lease: TaskLease, after delay: Duration, error: String) async throws -> Bool {
        let retried = try await update(lease, set: """
            status = 'queued', error = ?, lease_until = NULL, progress = 0, available_at = ?
            """, [error, Self.now() + max(delay, .zero).seconds])
        if retried { workSignal.signal() }
        return retried
    }

    package func release(_ leases: [TaskLease]) async throws -> Int {
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

    package func cancel(id: String) async throws -> CancelOutcome {
        let now = Self.now()
        let expiresAt = now + retention.statusTTL.seconds
        let statusTTL = retention.statusTTL.seconds
        let (outcome, wake) = try await writer.write { db -> (CancelOutcome, Bool) in
            if let cancelled = try Row.fetchOne(db, sql: """
                UPDATE tasks SET status = 'cancelled', token = token + 1, lease_until = NULL, blocked = 0,
                    finished_at = ?, expires_at = ?
                WHERE id = ? AND status IN ('queued', 'processing')
                RETURNING parent_id
                """, arguments: [now, expiresAt, id]) {
                var flows = Flows(db: db, now: now, statusTTL: statusTTL)
                try flows.taskFinished(id, parentID: cancelled["parent_id"], status: .cancelled, cause: "cancelled", expiresAt: expiresAt)
                return (.cancelled, flows.wake)
            }
            let status = try String.fetchOne(
                db, sql: "SELECT status FROM tasks WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)",
                arguments: [id, now])
            return (status.flatMap(TaskStatus.init(rawValue:)).map(CancelOutcome.alreadyFinished) ?? .notFound, false)
        }
        if wake { workSignal.signal() }
        return outcome
    }

    package func tasks(ids: [String]) async throws -> [String: TaskRecord] {
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

    package func reclaimExpiredLeases(maxAttempts: Int) async throws -> Int {
        let now = Self.now()
        let expiresAt = now + retention.statusTTL.seconds
        let statusTTL = retention.statusTTL.seconds
        let (dead, requeued, wake) = try await writer.write { db in
            let deadLetters = try Row.fetchAll(db, sql: """
                UPDATE tasks SET status = 'error', lease_until = NULL, finished_at = ?, expires_at = ?,
                    error = 'dead-lettered after ' || attempts || ' deliveries: the worker holding it stopped before finishing each time'
                WHERE status = 'processing' AND lease_until < ? AND attempts >= ?
                RETURNING id, parent_id, error
                """, arguments: [now, expiresAt, now, maxAttempts])
            var flows = Flows(db: db, now: now, statusTTL: statusTTL)
            for letter in deadLetters {
                try flows.taskFinished(letter["id"], parentID: letter["parent_id"], status: .error, cause: letter["error"], expiresAt: expiresAt)
            }
            try db.execute(sql: """
                UPDATE tasks SET status = 'queued', lease_until = NULL, progress = 0, available_at = ?
                WHERE status = 'processing' AND lease_until < ?
                """, arguments: [now, now])
            return (deadLetters.count, db.changesCount, flows.wake)
        }
        if dead > 0 { logger.warning("dead-lettered tasks whose workers kept stopping", metadata: ["count": "\(dead)"]) }
        if requeued > 0 || wake { workSignal.signal() }
        return dead + requeued
    }

    package func purgeExpired() async throws -> Int {
        let now = Self.now()
        return try await writer.write { db in
            try db.execute(
                sql: "DELETE FROM flows WHERE parent_id IN (SELECT id FROM tasks WHERE expires_at <= ?)", arguments: [now])
            try db.execute(sql: "DELETE FROM tasks WHERE expires_at <= ?", arguments: [now])
            let purged = db.changesCount
            try db.execute(sql: "DELETE FROM idempotency WHERE expires_at <= ?", arguments: [now])
            try db.execute(sql: "DELETE FROM documents WHERE expires_at <= ?", arguments: [now])
            return purged
        }
    }

    package func waitForWork(timeout: Duration) async {
        await workSignal.wait(timeout: timeout)
    }

    package func counts() async throws -> QueueCounts {
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

    package func unfinishedCount(owner: String) async throws -> Int {
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

    /// A fenced change that finishes the task (`completed` or `error`), and tells its parent
    /// in the same transaction.
    private func finish(
        _ lease: TaskLease, as status: TaskStatus, cause: String?, now: Double, expiresAt: Double,
        set assignments: String, _ values: [(any DatabaseValueConvertible)?]
    ) async throws -> Bool {
        var collected = StatementArguments(values)
        collected += [lease.id, lease.token]
        let arguments = collected
        let statusTTL = retention.statusTTL.seconds
        let (finished, wake) = try await writer.write { db -> (Bool, Bool) in
            guard let row = try Row.fetchOne(db.cachedStatement(
                sql: "UPDATE tasks SET \(assignments) WHERE id = ? AND token = ? AND status = 'processing' RETURNING parent_id"
            ), arguments: arguments) else { return (false, false) }
            var flows = Flows(db: db, now: now, statusTTL: statusTTL)
            try flows.taskFinished(lease.id, parentID: row["parent_id"], status: status, cause: cause, expiresAt: expiresAt)
            return (true, flows.wake)
        }
        if wake { workSignal.signal() }
        return finished
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
