import Foundation
import GRDB
import PromptlineCore

extension SQLiteTaskStore {
    /// The tables and indexes, created on first open.
    enum Schema {
        static func migrate(_ db: Database) throws {
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS tasks (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    status TEXT NOT NULL,
                    priority INTEGER NOT NULL,
                    model TEXT NOT NULL,
                    max_tokens INTEGER NOT NULL,
                    temperature REAL NOT NULL,
                    -- A single user message is kept as its UTF-8 bytes; anything else as JSON.
                    -- Free text is stored as BLOB so that a NUL inside it survives.
                    prompt BLOB,
                    messages TEXT,
                    metadata TEXT,
                    result BLOB,
                    error TEXT,
                    prompt_tokens INTEGER,
                    completion_tokens INTEGER,
                    total_tokens INTEGER,
                    answered_by TEXT,
                    progress INTEGER NOT NULL DEFAULT 0,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    token INTEGER NOT NULL DEFAULT 0,
                    available_at REAL NOT NULL,
                    lease_until REAL,
                    queued_at REAL NOT NULL,
                    started_at REAL,
                    finished_at REAL,
                    expires_at REAL
                );
                CREATE INDEX IF NOT EXISTS tasks_leases ON tasks (lease_until) WHERE status = 'processing';
                CREATE INDEX IF NOT EXISTS tasks_expiry ON tasks (expires_at) WHERE expires_at IS NOT NULL;
                CREATE TABLE IF NOT EXISTS idempotency (
                    key TEXT PRIMARY KEY,
                    task_ids TEXT NOT NULL,
                    expires_at REAL NOT NULL
                );
                -- The DocumentStore's records; seq orders a collection newest first.
                CREATE TABLE IF NOT EXISTS documents (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    collection TEXT NOT NULL,
                    id TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    body BLOB NOT NULL,
                    created_at REAL NOT NULL,
                    expires_at REAL NOT NULL,
                    UNIQUE (collection, id)
                );
                CREATE INDEX IF NOT EXISTS documents_listing ON documents (collection, seq);
                CREATE INDEX IF NOT EXISTS documents_expiry ON documents (expires_at);
                """)
            // Added with API keys: the key that submitted the task.
            if try !db.columns(in: "tasks").contains(where: { $0.name == "owner" }) {
                try db.execute(sql: "ALTER TABLE tasks ADD COLUMN owner TEXT")
            }
            try db.execute(sql: """
                CREATE INDEX IF NOT EXISTS tasks_unfinished_by_owner ON tasks (owner)
                    WHERE owner IS NOT NULL AND status IN ('queued', 'processing')
                """)
            // Added with flows: a child names its parent; `blocked` keeps a `queued` task out
            // of the queue (a parent waiting for its children, a child held back by
            // `maxParallel`). The queue's index leaves blocked tasks out.
            if try !db.columns(in: "tasks").contains(where: { $0.name == "parent_id" }) {
                try db.execute(sql: """
                    ALTER TABLE tasks ADD COLUMN parent_id TEXT;
                    ALTER TABLE tasks ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0;
                    DROP INDEX IF EXISTS tasks_queue;
                    """)
            }
            try db.execute(sql: """
                CREATE INDEX IF NOT EXISTS tasks_claimable ON tasks (priority DESC, seq)
                    WHERE status = 'queued' AND blocked = 0;
                CREATE INDEX IF NOT EXISTS tasks_children ON tasks (parent_id, seq) WHERE parent_id IS NOT NULL;
                -- One row per parent: what a failed child does to it, and how many of its
                -- current children may run at once (NULL: no limit).
                CREATE TABLE IF NOT EXISTS flows (
                    parent_id TEXT PRIMARY KEY,
                    policy TEXT NOT NULL,
                    max_parallel INTEGER
                );
                """)
        }
    }

    /// How a task is laid out in its row.
    enum TaskRow {
        struct Insert: Sendable {
            var id: String
            var priority: Int
            var model: String
            var maxTokens: Int
            var temperature: Double
            var prompt: Data?
            var messages: String?
            var metadata: String?
            var owner: String?

            init(_ task: NewTask) throws {
                id = task.id
                priority = task.priority
                model = task.request.model
                maxTokens = task.request.maxTokens
                temperature = task.request.temperature
                prompt = StoredRequest.prompt(of: task.request).map { Data($0.utf8) }
                messages = try StoredRequest.json(of: task.request)
                metadata = try StoredRequest.metadataJSON(task.metadata)
                owner = task.owner
            }
        }

        /// The columns ``request(_:)`` reads.
        static let requestColumns = "model, max_tokens, temperature, prompt, messages"

        static func request(_ row: Row) throws -> ChatRequest {
            try StoredRequest.request(
                model: row["model"], maxTokens: row["max_tokens"], temperature: row["temperature"],
                prompt: (row["prompt"] as Data?).map { String(decoding: $0, as: UTF8.self) }, json: row["messages"]
            )
        }

        static func record(_ row: Row) throws -> TaskRecord {
            let metadata: String? = row["metadata"]
            let statusName: String = row["status"]
            return TaskRecord(
                id: row["id"],
                status: TaskStatus(rawValue: statusName) ?? .error,
                request: try request(row),
                priority: row["priority"],
                metadata: try StoredRequest.metadata(json: metadata),
                result: (row["result"] as Data?).map { String(decoding: $0, as: UTF8.self) },
                error: row["error"],
                progress: row["progress"],
                attempts: row["attempts"],
                queuedAt: Date(timeIntervalSince1970: row["queued_at"]),
                startedAt: (row["started_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                finishedAt: (row["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                usage: (row["total_tokens"] as Int?).map {
                    TokenUsage(promptTokens: row["prompt_tokens"] ?? 0, completionTokens: row["completion_tokens"] ?? 0, totalTokens: $0)
                },
                owner: row["owner"]
            )
        }
    }
}
