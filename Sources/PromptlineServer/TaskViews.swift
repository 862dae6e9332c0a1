import Foundation
import PromptlineCore

/// `202` answer of a submission.
struct SubmitResponse: Encodable {
    var taskIDs: [String]
    var status = "queued"
    /// The submission's id, for `GET /api/tasks/events?batch_id=`; absent on a server
    /// without a document store (in-process tests).
    var batchID: String?
    /// Present (and true) when the idempotency key had been seen: nothing new was queued.
    var duplicate: Bool?

    enum CodingKeys: String, CodingKey {
        case taskIDs = "task_ids"
        case batchID = "batch_id"
        case status, duplicate
    }
}

/// One task in `GET /api/tasks?task_ids=…` (docs/api.md).
struct TaskSummary: Encodable {
    var status: String
    var result: String?
    var error: String?
    var progress: String?

    static let notFound = TaskSummary(status: "not_found")

    init(status: String, result: String? = nil, error: String? = nil, progress: String? = nil) {
        self.status = status
        self.result = result
        self.error = error
        self.progress = progress
    }

    init(_ record: TaskRecord) {
        self.init(status: record.status.rawValue, result: record.result, error: record.error, progress: String(record.progress))
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(status, forKey: .status)
        guard status != "not_found" else { return }
        // A found task always has these four keys, null when empty.
        try container.encode(result, forKey: .result)
        try container.encode(error, forKey: .error)
        try container.encode(progress, forKey: .progress)
    }

    enum CodingKeys: String, CodingKey { case status, result, error, progress }
}

/// `GET /api/tasks/{id}`: one task in detail.
struct TaskDetail: Encodable {
    var id: String
    var status: String
    var result: String?
    var error: String?
    var progress: String
    var attempts: Int
    var model: String
    var priority: Int
    var maxTokens: Int
    var temperature: Double
    var metadata: [String: String]
    var usage: TokenUsage?
    var queuedAt: String
    var startedAt: String?
    var finishedAt: String?
    /// A grounded question's sources, once its task has run.
    var citations: [Citation]?

    init(_ record: TaskRecord, citations: [Citation]? = nil) {
        self.citations = citations
        id = record.id
        status = record.status.rawValue
        result = record.result
        error = record.error
        progress = String(record.progress)
        attempts = record.attempts
        model = record.request.model
        priority = record.priority
        maxTokens = record.request.maxTokens
        temperature = record.request.temperature
        metadata = record.metadata
        usage = record.usage
        queuedAt = Self.timestamp(record.queuedAt)
        startedAt = record.startedAt.map(Self.timestamp)
        finishedAt = record.finishedAt.map(Self.timestamp)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(status, forKey: .status)
        try c.encode(result, forKey: .result)
        try c.encode(error, forKey: .error)
        try c.encode(progress, forKey: .progress)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(model, forKey: .model)
        try c.encode(priority, forKey: .priority)
        try c.encode(maxTokens, forKey: .maxTokens)
        try c.encode(temperature, forKey: .temperature)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(usage, forKey: .usage)
        try c.encode(queuedAt, forKey: .queuedAt)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encodeIfPresent(citations, forKey: .citations)
    }

    enum CodingKeys: String, CodingKey {
        case id, status, result, error, progress, attempts, model, priority, temperature, metadata, usage, citations
        case maxTokens = "max_tokens"
        case queuedAt = "queued_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    /// ISO 8601 with milliseconds, UTC.
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}

/// `GET /api/stats`: the queue and this instance's workers.
struct StatsResponse: Encodable {
    var queue: QueueCounts
    var workers: Int
    var busyWorkers: Int
    var tasksProcessed: Int

    enum CodingKeys: String, CodingKey {
        case queue, workers
        case busyWorkers = "busy_workers"
        case tasksProcessed = "tasks_processed"
    }
}

/// `GET /api/stats` for a key that is not an admin: its own work, not the server's.
struct KeyStatsResponse: Encodable {
    var key: String
    var name: String
    /// The key's tasks that are queued or being processed.
    var unfinishedTasks: Int

    enum CodingKeys: String, CodingKey {
        case key, name
        case unfinishedTasks = "unfinished_tasks"
    }
}
