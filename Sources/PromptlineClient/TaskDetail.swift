/// One task as `GET /api/tasks/{id}` reports it.
///
/// Every field but `id` and `status` may be missing, so that a server older or newer than
/// this client still reads.
public struct TaskDetail: Sendable, Hashable, Decodable {
    /// Token counts the upstream reported.
    public struct Usage: Sendable, Hashable, Decodable {
        public var promptTokens: Int
        public var completionTokens: Int
        public var totalTokens: Int

        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
            case totalTokens = "total_tokens"
        }
    }

    public var id: String
    public var status: String
    public var result: String?
    public var error: String?
    public var progress: String?
    public var attempts: Int?
    public var model: String?
    public var priority: Int?
    public var maxTokens: Int?
    public var temperature: Double?
    public var metadata: [String: String]?
    public var usage: Usage?
    /// ISO 8601 timestamps, as the server wrote them.
    public var queuedAt: String?
    public var startedAt: String?
    public var finishedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, status, result, error, progress, attempts, model, priority, temperature, metadata, usage
        case maxTokens = "max_tokens"
        case queuedAt = "queued_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }
}
