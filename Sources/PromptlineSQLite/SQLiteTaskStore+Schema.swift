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
                CREATE INDEX IF NOT EXISTS tasks_queue ON tasks (priority DESC, seq) WHERE status = 'queued';
                CREATE INDEX IF NOT EXISTS tasks_leases ON tasks (lease_until) WHERE status = 'processing';
                CREATE INDEX IF NOT EXISTS tasks_expiry ON tasks (expires_at) WHERE expires_at IS NOT NULL;
                CREATE TABLE IF NOT EXISTS idempotency (
                    key TEXT PRIMARY KEY,
                    task_ids TEXT NOT NULL,
                    expires_at REAL NOT NULL
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

            init(_ task: NewTask) throws {
                id = task.id
                priority = task.priority
                model = task.request.model
                maxTokens = task.request.maxTokens
                temperature = task.request.temperature
                let messages = task.request.messages
                if messages.count == 1, messages[0].role == "user" {
                    prompt = Data(messages[0].content.utf8)
                } else {
                    self.messages = String(decoding: try JSONEncoder().encode(messages), as: UTF8.self)
                }
                metadata = task.metadata.isEmpty ? nil : String(decoding: try JSONEncoder().encode(task.metadata), as: UTF8.self)
            }
        }

        /// The columns ``request(_:)`` reads.
        static let requestColumns = "model, max_tokens, temperature, prompt, messages"

        static func request(_ row: Row) throws -> ChatRequest {
            let messages: [ChatMessage]
            if let prompt = row["prompt"] as Data? {
                messages = [ChatMessage(role: "user", content: String(decoding: prompt, as: UTF8.self))]
            } else {
                messages = try JSONDecoder().decode([ChatMessage].self, from: Data((row["messages"] as String? ?? "[]").utf8))
            }
            return ChatRequest(model: row["model"], messages: messages, maxTokens: row["max_tokens"], temperature: row["temperature"])
        }

        static func record(_ row: Row) throws -> TaskRecord {
            let metadata: String? = row["metadata"]
            let statusName: String = row["status"]
            return TaskRecord(
                id: row["id"],
                status: TaskStatus(rawValue: statusName) ?? .error,
                request: try request(row),
                priority: row["priority"],
                metadata: try metadata.map { try JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:],
                result: (row["result"] as Data?).map { String(decoding: $0, as: UTF8.self) },
                error: row["error"],
                progress: row["progress"],
                attempts: row["attempts"],
                queuedAt: Date(timeIntervalSince1970: row["queued_at"]),
                startedAt: (row["started_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                finishedAt: (row["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                usage: (row["total_tokens"] as Int?).map {
                    TokenUsage(promptTokens: row["prompt_tokens"] ?? 0, completionTokens: row["completion_tokens"] ?? 0, totalTokens: $0)
                }
            )
        }
    }
}
