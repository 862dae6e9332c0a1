import Foundation

/// Where a task is in its life: `queued` → `processing` → `completed` | `error` | `cancelled`.
public enum TaskStatus: String, Sendable, Codable, CaseIterable {
    case queued
    case processing
    case completed
    case error
    case cancelled

    /// A finished task never changes again.
    public var isFinished: Bool {
        switch self {
        case .queued, .processing: false
        case .completed, .error, .cancelled: true
        }
    }
}

/// One message of a chat conversation, as OpenAI's chat-completions API takes it.
public struct ChatMessage: Sendable, Codable, Hashable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    /// The roles a submitted message may have.
    public static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]
}

/// What one task asks of the upstream: a chat completion.
public struct ChatRequest: Sendable, Codable, Hashable {
    public var model: String
    public var messages: [ChatMessage]
    public var maxTokens: Int
    public var temperature: Double
    /// Other OpenAI parameters (`top_p`, `stop`, `seed`, `response_format`, …), sent to the
    /// upstream as they were given. Promptline does not interpret them.
    public var parameters: [String: JSONValue] = [:]
    /// Whether the answer may come from, and go to, the response cache.
    public var cacheable = true

    public init(
        model: String, messages: [ChatMessage], maxTokens: Int, temperature: Double,
        parameters: [String: JSONValue] = [:], cacheable: Bool = true
    ) {
        self.model = model
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.parameters = parameters
        self.cacheable = cacheable
    }

    enum CodingKeys: String, CodingKey {
        case model, messages, temperature
        case maxTokens = "max_tokens"
    }
}

/// Token counts the upstream reported for one completion.
public struct TokenUsage: Sendable, Codable, Hashable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int

    public init(promptTokens: Int, completionTokens: Int, totalTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = totalTokens
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
    }
}

/// A task as it is handed to a store for the first time.
public struct NewTask: Sendable {
    public var id: String
    public var request: ChatRequest
    /// Higher runs first; within a priority, the oldest runs first.
    public var priority: Int
    public var metadata: [String: String]
    /// The API key that submitted the task (its public id), or nil on a server without keys.
    /// Only that key sees the task, and the store counts its unfinished tasks.
    public var owner: String?

    public init(
        id: String = NewTask.makeID(), request: ChatRequest, priority: Int = 0, metadata: [String: String] = [:],
        owner: String? = nil
    ) {
        self.id = id
        self.request = request
        self.priority = priority
        self.metadata = metadata
        self.owner = owner
    }

    /// A fresh task id: a random UUID in lower case.
    public static func makeID() -> String {
        UUID().uuidString.lowercased()
    }
}

/// A task as a store reports it.
public struct TaskRecord: Sendable, Hashable {
    public var id: String
    public var status: TaskStatus
    public var request: ChatRequest
    public var priority: Int
    public var metadata: [String: String]
    /// The answer, once `completed`.
    public var result: String?
    /// The cause of the failure once `error`; while queued for a retry, the last attempt's cause.
    public var error: String?
    /// 0...100.
    public var progress: Int
    /// How many times a worker has taken the task up.
    public var attempts: Int
    public var queuedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var usage: TokenUsage?
    /// The API key that submitted the task (``NewTask/owner``).
    public var owner: String?

    public init(
        id: String, status: TaskStatus, request: ChatRequest, priority: Int, metadata: [String: String],
        result: String?, error: String?, progress: Int, attempts: Int,
        queuedAt: Date, startedAt: Date?, finishedAt: Date?, usage: TokenUsage?, owner: String? = nil
    ) {
        self.id = id
        self.status = status
        self.request = request
        self.priority = priority
        self.metadata = metadata
        self.result = result
        self.error = error
        self.progress = progress
        self.attempts = attempts
        self.queuedAt = queuedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.usage = usage
        self.owner = owner
    }
}

/// The right to change one task: its id and the fencing token of the claim.
///
/// Every claim issues a new token. A store accepts a change only with the current token,
/// so a worker whose lease ran out (and whose task was taken up again) changes nothing.
public struct TaskLease: Sendable, Hashable {
    public var id: String
    public var token: Int64

    public init(id: String, token: Int64) {
        self.id = id
        self.token = token
    }
}

/// A task a worker has claimed.
public struct ClaimedTask: Sendable {
    public var lease: TaskLease
    public var request: ChatRequest
    /// This delivery's number, from 1.
    public var attempt: Int

    public var id: String { lease.id }

    public init(lease: TaskLease, request: ChatRequest, attempt: Int) {
        self.lease = lease
        self.request = request
        self.attempt = attempt
    }
}

/// The answer of a completed task.
public struct TaskResult: Sendable, Hashable {
    public var content: String
    public var usage: TokenUsage?
    /// The model the upstream says answered.
    public var model: String?

    public init(content: String, usage: TokenUsage? = nil, model: String? = nil) {
        self.content = content
        self.usage = usage
        self.model = model
    }
}
