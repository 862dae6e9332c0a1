/// The server's answer to `POST /api/tasks`.
package struct SubmitAnswer: Sendable, Hashable, Decodable {
    /// One id per prompt, in order.
    package var taskIDs: [String]
    /// True when the idempotency key had been seen: these are the ids of the earlier
    /// submission, and nothing new was queued.
    package var duplicate: Bool

    package init(taskIDs: [String], duplicate: Bool = false) {
        self.taskIDs = taskIDs
        self.duplicate = duplicate
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        taskIDs = try container.decode([String].self, forKey: .taskIDs)
        duplicate = try container.decodeIfPresent(Bool.self, forKey: .duplicate) ?? false
    }

    enum CodingKeys: String, CodingKey {
        case taskIDs = "task_ids"
        case duplicate
    }
}
