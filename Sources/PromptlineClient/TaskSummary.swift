/// One task as `GET /api/tasks?task_ids=…` reports it.
public struct TaskSummary: Sendable, Hashable, Decodable {
    /// `queued`, `processing`, `completed`, `error`, `cancelled`, or `not_found` for an id
    /// the server does not know (unknown or expired).
    public var status: String
    public var result: String?
    public var error: String?
    /// `"0"` to `"100"`.
    public var progress: String?

    public init(status: String, result: String? = nil, error: String? = nil, progress: String? = nil) {
        self.status = status
        self.result = result
        self.error = error
        self.progress = progress
    }

    /// A finished task's status no longer changes (`not_found` included: waiting will not
    /// make an unknown id known).
    public var isFinished: Bool {
        Self.finishedStatuses.contains(status)
    }

    /// The statuses a wait ends on.
    public static let finishedStatuses: Set<String> = ["completed", "error", "cancelled", "not_found"]

    public var isCompleted: Bool {
        status == "completed"
    }
}
