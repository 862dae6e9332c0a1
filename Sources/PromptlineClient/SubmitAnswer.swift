/// The server's answer to `POST /api/tasks`.
public struct SubmitAnswer: Sendable, Hashable, Decodable {
    /// One id per prompt, in order.
    public var taskIDs: [String]
    /// True when the idempotency key had been seen: these are the ids of the earlier
    /// submission, and nothing new was queued.
    public var duplicate: Bool

    public init(taskIDs: [String], duplicate: Bool = false) {
        self.taskIDs = taskIDs
        self.duplicate = duplicate
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        taskIDs = try container.decode([String].self, forKey: .taskIDs)
        duplicate = try container.decodeIfPresent(Bool.self, forKey: .duplicate) ?? false
    }

    enum CodingKeys: String, CodingKey {
        case taskIDs = "task_ids"
        case duplicate
    }
}
