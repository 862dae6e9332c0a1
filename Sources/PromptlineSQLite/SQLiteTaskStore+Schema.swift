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
                    request BLOB NOT NULL,
                    metadata TEXT,
                    result TEXT,
                    error TEXT,
                    usage TEXT,
                    model TEXT,
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
            var request: Data
            var metadata: String?

            init(_ task: NewTask) throws {
                id = task.id
                priority = task.priority
                request = try JSONEncoder().encode(task.request)
                metadata = task.metadata.isEmpty ? nil : String(decoding: try JSONEncoder().encode(task.metadata), as: UTF8.self)
            }
        }

        static func decodeRequest(_ data: Data) throws -> ChatRequest {
            try JSONDecoder().decode(ChatRequest.self, from: data)
        }

        static func record(_ row: Row) throws -> TaskRecord {
            let metadata: String? = row["metadata"]
            let usage: String? = row["usage"]
            let statusName: String = row["status"]
            return TaskRecord(
                id: row["id"],
                status: TaskStatus(rawValue: statusName) ?? .error,
                request: try decodeRequest(row["request"]),
                priority: row["priority"],
                metadata: try metadata.map { try JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:],
                result: row["result"],
                error: row["error"],
                progress: row["progress"],
                attempts: row["attempts"],
                queuedAt: Date(timeIntervalSince1970: row["queued_at"]),
                startedAt: (row["started_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                finishedAt: (row["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                usage: try usage.map { try JSONDecoder().decode(TokenUsage.self, from: Data($0.utf8)) }
            )
        }
    }
}
