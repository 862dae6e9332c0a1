/// One task as `GET /api/tasks/{id}` reports it.
///
/// Every field but `id` and `status` may be missing, so that a server older or newer than
/// this client still reads.
package struct TaskDetail: Sendable, Hashable, Decodable {
    /// Token counts the upstream reported.
    package struct Usage: Sendable, Hashable, Decodable {
        package var promptTokens: Int
        package var completionTokens: Int
        package var totalTokens: Int

        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
            case totalTokens = "total_tokens"
        }
    }

    package var id: String
    package var status: String
    package var result: String?
    package var error: String?
    package var progress: String?
    package var attempts: Int?
    package var model: String?
    package var priority: Int?
    package var maxTokens: Int?
    package var temperature: Double?
    package var metadata: [String: String]?
    package var usage: Usage?
    /// ISO 8601 timestamps, as the server wrote them.
    package var queuedAt: String?
    package var startedAt: String?
    package var finishedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, status, result, error, progress, attempts, model, priority, temperature, metadata, usage
        case maxTokens = "max_tokens"
        case queuedAt = "queued_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }
}
