import Foundation

/// Where a task is in its life: `queued` → `processing` → `completed` | `error` | `cancelled`.
package enum TaskStatus: String, Sendable, Codable, CaseIterable {
    case queued
    case processing
    case completed
    case error
    case cancelled

    /// A finished task never changes again.
    package var isFinished: Bool {
        switch self {
        case .queued, .processing: false
        case .completed, .error, .cancelled: true
        }
    }
}

/// One message of a chat conversation, as OpenAI's chat-completions API takes it.
package struct ChatMessage: Sendable, Codable, Hashable {
    package var role: String
    package var content: String

    package init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    /// The roles a submitted message may have.
    package static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]
}

/// What one task asks of the upstream: a chat completion.
package struct ChatRequest: Sendable, Codable, Hashable {
    package var model: String
    package var messages: [ChatMessage]
    package var maxTokens: Int
    package var temperature: Double
    /// Other OpenAI parameters (`top_p`, `stop`, `seed`, `response_format`, …), sent to the
    /// upstream as they were given. Promptline does not interpret them.
    package var parameters: [String: JSONValue] = [:]
    /// Whether the answer may come from, and go to, the response cache.
    package var cacheable = true
    /// Whose cache entries the answer may come from and go to: the API key that asked, or
    /// `nil` for entries every caller shares. Part of the cache key.
    package var cacheScope: String?
    /// For a question to be answered from vector stores: where to look. Its handler
    /// (``Grounding/handlerName``) retrieves the sources and builds the messages when it runs.
    package var grounding: Grounding?

    package init(
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

/// Where a grounded question looks for its sources.
package struct Grounding: Sendable, Codable, Hashable {
    package var vectorStoreIDs: [String]
    /// How many chunks at most are given as sources.
    package var maxResults: Int

    /// The name the handler of grounded tasks is registered under on the ``WorkerPool``.
    package static let handlerName = "grounded"

    package init(vectorStoreIDs: [String], maxResults: Int) {
        self.vectorStoreIDs = vectorStoreIDs
        self.maxResults = maxResults
    }

    enum CodingKeys: String, CodingKey {
        case vectorStoreIDs = "vector_store_ids"
        case maxResults = "max_results"
    }
}

/// Token counts the upstream reported for one completion.
package struct TokenUsage: Sendable, Codable, Hashable {
    package var promptTokens: Int
    package var completionTokens: Int
    package var totalTokens: Int

    package init(promptTokens: Int, completionTokens: Int, totalTokens: Int) {
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
package struct NewTask: Sendable {
    package var id: String
    package var request: ChatRequest
    /// Higher runs first; within a priority, the oldest runs first.
    package var priority: Int
    package var metadata: [String: String]
    /// The API key that submitted the task (its package id), or nil on a server without keys.
    /// Only that key sees the task, and the store counts its unfinished tasks.
    package var owner: String?

    package init(
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
    package static func makeID() -> String {
        UUID().uuidString.lowercased()
    }
}

/// A task as a store reports it.
package struct TaskRecord: Sendable, Hashable {
    package var id: String
    package var status: TaskStatus
    package var request: ChatRequest
    package var priority: Int
    package var metadata: [String: String]
    /// The answer, once `completed`.
    package var result: String?
    /// The cause of the failure once `error`; while queued for a retry, the last attempt's cause.
    package var error: String?
    /// 0...100.
    package var progress: Int
    /// How many times a worker has taken the task up.
    package var attempts: Int
    package var queuedAt: Date
    package var startedAt: Date?
    package var finishedAt: Date?
    package var usage: TokenUsage?
    /// The API key that submitted the task (``NewTask/owner``).
    package var owner: String?

    package init(
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
package struct TaskLease: Sendable, Hashable {
    package var id: String
    package var token: Int64

    package init(id: String, token: Int64) {
        self.id = id
        self.token = token
    }
}

/// A task a worker has claimed.
package struct ClaimedTask: Sendable {
    package var lease: TaskLease
    package var request: ChatRequest
    /// This delivery's number, from 1.
    package var attempt: Int

    package var id: String { lease.id }

    package init(lease: TaskLease, request: ChatRequest, attempt: Int) {
        self.lease = lease
        self.request = request
        self.attempt = attempt
    }
}

/// The answer of a completed task.
package struct TaskResult: Sendable, Hashable {
    package var content: String
    package var usage: TokenUsage?
    /// The model the upstream says answered.
    package var model: String?

    package init(content: String, usage: TokenUsage? = nil, model: String? = nil) {
        self.content = content
        self.usage = usage
        self.model = model
    }
}
